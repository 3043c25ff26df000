use std::ffi::OsString;
use std::path::{Path, PathBuf};
use unit2sv::{install, map, typed, unit};

const USAGE: &str =
    "usage: unit2sv [-q] [--root DIR] [--dir DIR] [--service DIR] [--no-enable] NAME... | --all
       unit2sv --notify-relay[=all] PATH
       unit2sv --listen=SPEC... [--fdnames=NAME] -- prog [arg...]";

const HELP: &str = "Reads systemd units (with their drop-ins, and name@instance of a template)
from /etc/systemd/system, /run/systemd/system and /lib/systemd/system, and
makes a runit service directory for each: /etc/sv/NAME with run, finish,
control/t, control/h, log/run (svlogd into /var/log/runit/NAME), and
notify-socket, pidfile, timeout-kill, kill-tree where the unit asks for
them.
A service whose unit is WantedBy=multi-user.target is linked into
/etc/service. A directory unit2sv did not make is never touched; a file
edited since unit2sv wrote it is kept; re-running changes nothing.

  --all          every installed unit with an [Install] section that
                 /etc/sv does not already have
  --root DIR     work on the system at DIR (units read and directories
                 made there; the scripts name paths as seen inside it)
  --dir DIR      service directories go to DIR (default /etc/sv)
  --service DIR  enabled services are linked into DIR (default /etc/service)
  --no-enable    link nothing
  -q             no warnings, only errors
  --notify-relay[=all] PATH
                 what run uses for Type=notify: a notify socket at PATH
                 for a daemon that drops root, passed on to runsv's
  --listen=SPEC... -- prog
                 what run uses for a service started by its .socket unit:
                 binds PATH[:MODE[:UID[:GID]]] or [ADDR:]PORT, passes them
                 as descriptors 3... with LISTEN_FDS, LISTEN_PID";

struct Opts {
    root: PathBuf,
    dir: String,
    service: String,
    enable: bool,
    quiet: bool,
    all: bool,
    names: Vec<String>,
}

fn usage() -> ! {
    eprintln!("{USAGE}");
    std::process::exit(100)
}

fn rooted(root: &Path, p: &str) -> PathBuf {
    root.join(p.trim_start_matches('/'))
}

fn main() {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    if let Some(first) = args.first().and_then(|a| a.to_str()) {
        if first.starts_with("--listen=") {
            let mut specs = Vec::new();
            let mut names = String::new();
            let mut i = 0;
            while let Some(a) = args.get(i).and_then(|a| a.to_str()) {
                if let Some(s) = a.strip_prefix("--listen=") {
                    specs.push(s.to_string());
                } else if let Some(n) = a.strip_prefix("--fdnames=") {
                    names = n.to_string();
                } else {
                    break;
                }
                i += 1;
            }
            if args.get(i).and_then(|a| a.to_str()) == Some("--") {
                i += 1;
            }
            unit2sv::listen::run(&specs, &names, &args[i..]);
        }
        if first == "--notify-relay" || first == "--notify-relay=all" {
            let Some(path) = args.get(1) else { usage() };
            unit2sv::notify::run(first.ends_with("=all"), Path::new(path));
        }
    }
    let mut o = Opts {
        root: PathBuf::from("/"),
        dir: "/etc/sv".into(),
        service: "/etc/service".into(),
        enable: true,
        quiet: false,
        all: false,
        names: Vec::new(),
    };
    let mut it = args.into_iter().map(|a| a.to_string_lossy().into_owned());
    while let Some(a) = it.next() {
        match a.as_str() {
            "-h" | "--help" => {
                println!("{USAGE}\n\n{HELP}");
                return;
            }
            "--all" => o.all = true,
            "--root" => o.root = PathBuf::from(it.next().unwrap_or_else(|| usage())),
            "--dir" => o.dir = it.next().unwrap_or_else(|| usage()),
            "--service" => o.service = it.next().unwrap_or_else(|| usage()),
            "--no-enable" => o.enable = false,
            "-q" => o.quiet = true,
            s if s.starts_with('-') => usage(),
            _ => o.names.push(a),
        }
    }
    if o.all != o.names.is_empty() {
        usage();
    }
    let names = if o.all {
        all_units(&o)
    } else {
        o.names.clone()
    };
    let mut failed = false;
    for n in names {
        if let Err(e) = convert(&o, &n) {
            eprintln!("unit2sv: {e}");
            failed = true;
        }
    }
    std::process::exit(if failed { 1 } else { 0 });
}

fn convert(o: &Opts, n: &str) -> Result<(), String> {
    let name = unit::UnitName::parse(n).ok_or_else(|| format!("{n}: not a unit name"))?;
    if name.instance.as_deref() == Some("") {
        return Err(format!(
            "{n}: a template needs an instance ({}@INSTANCE)",
            name.prefix
        ));
    }
    if name.suffix != "service" {
        return Err(format!("{n}: only .service units are converted"));
    }
    let (entries, sources) = unit::load(&o.root, &name)?;
    let mut u = typed::Unit::from_entries(&entries, &name);
    add_socket_and_tmpfiles(&o.root, &name, &mut u);
    if let Some(t) = wanted_by_link(&o.root, &name.full) {
        u.wanted_by.push(t);
    }
    // A socket unit that is not on this system (syslog.socket is
    // systemd's own) is no dependency to wait for.
    for list in [&mut u.requires, &mut u.wants, &mut u.after] {
        list.retain(|d| {
            !d.ends_with(".socket")
                || unit::UnitName::parse(d)
                    .is_some_and(|n| !matches!(unit::find(&o.root, &n), unit::Found::Missing))
        });
    }
    let layout = map::Layout::default();
    let svc = map::map(&u, &layout);
    let stem = svc.name.clone();
    let shown: Vec<String> = sources
        .iter()
        .map(|p| format!("/{}", p.strip_prefix(&o.root).unwrap_or(p).display()))
        .collect();
    let svroot = rooted(&o.root, &o.dir);
    let runlevel = rooted(&o.root, &o.service);
    let enable = if o.enable && runlevel.is_dir() {
        Some(runlevel.as_path())
    } else {
        None
    };
    let link_target = Path::new(&o.dir).join(&stem);
    let r = install::install(
        &svroot,
        &svc,
        &shown,
        enable.map(|r| (r, link_target.as_path())),
    )
    .map_err(|e| format!("{stem}: {e}"))?;
    if !o.quiet {
        for w in &svc.warnings {
            eprintln!("unit2sv: warning: {stem}: {w}");
        }
        for k in &r.kept {
            eprintln!("unit2sv: warning: {stem}: {k} changed since unit2sv wrote it; kept");
        }
    }
    let what = if r.written.is_empty() && r.removed.is_empty() {
        "unchanged".to_string()
    } else {
        let mut w = r.written.join(" ");
        if !r.removed.is_empty() {
            w.push_str(&format!(" (removed {})", r.removed.join(" ")));
        }
        format!("wrote {w}")
    };
    println!(
        "{stem}: {}/{stem}: {what}{}",
        o.dir.trim_end_matches('/'),
        if r.enabled { "; enabled" } else { "" }
    );
    Ok(())
}

/// The service's `.socket` unit (same name) when it has one, and the
/// package's tmpfiles.d file of the same name (its directories).
fn add_socket_and_tmpfiles(root: &Path, name: &unit::UnitName, u: &mut typed::Unit) {
    let sock = format!("{}.socket", name.prefix);
    if name.instance.is_none() {
        if let Some(sn) = unit::UnitName::parse(&sock) {
            if let Ok((entries, _)) = unit::load(root, &sn) {
                u.add_socket_unit(&sock, &entries);
                u.socket_enabled |= wanted_by_link(root, &sock).is_some();
            }
        }
    }
    for dir in [
        "etc/tmpfiles.d",
        "run/tmpfiles.d",
        "usr/lib/tmpfiles.d",
        "lib/tmpfiles.d",
    ] {
        let p = root.join(dir).join(format!("{}.conf", name.prefix));
        if let Ok(text) = runit::secure::read_bounded_string(&p, 64 * 1024) {
            let (dirs, _) = typed::parse_tmpfiles(&text);
            u.tmpfiles = dirs;
            break;
        }
    }
}

/// Every installed service unit worth a service directory: with an
/// [Install] section (a unit without one is started by another: a timer,
/// a socket, a dependency), not masked, not an alias, not systemd's own,
/// not a template without DefaultInstance=, and not already in /etc/sv
/// unless unit2sv made that directory.
fn all_units(o: &Opts) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for dir in unit::SEARCH_PATH {
        let Ok(rd) = std::fs::read_dir(o.root.join(dir)) else {
            continue;
        };
        let mut names: Vec<String> = rd
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        for f in names {
            if !f.ends_with(".service") || seen.contains(&f) {
                continue;
            }
            seen.push(f.clone());
            let path = o.root.join(dir).join(&f);
            if let Ok(t) = std::fs::read_link(&path) {
                // An alias (sshd.service -> ssh.service) or a mask.
                if t.file_name()
                    .map(|b| b.to_string_lossy() != f.as_str())
                    .unwrap_or(true)
                {
                    continue;
                }
            }
            if f.starts_with("systemd-") {
                continue;
            }
            let Some(name) = unit::UnitName::parse(&f) else {
                continue;
            };
            let Ok((entries, _)) = unit::load(&o.root, &name) else {
                continue;
            };
            let u = typed::Unit::from_entries(&entries, &name);
            if (!u.has_install || u.wanted_by.is_empty())
                && !socket_installed(&o.root, &name)
                && wanted_by_link(&o.root, &f).is_none()
            {
                continue;
            }
            let target = match (&name.instance, &u.default_instance) {
                (Some(i), _) if i.is_empty() => match &u.default_instance {
                    Some(d) => format!("{}@{}.service", name.prefix, d),
                    None => continue,
                },
                _ => f.clone(),
            };
            let stem = target.trim_end_matches(".service");
            if in_stage1(&o.root, stem) {
                println!("{stem}: runit's stage 1 runs it (/etc/rcS.d); left alone");
                continue;
            }
            let existing = rooted(&o.root, &o.dir).join(stem);
            if existing.exists() && !existing.join(install::MARK).exists() {
                println!(
                    "{stem}: {}/{stem} exists; left alone",
                    o.dir.trim_end_matches('/')
                );
                continue;
            }
            out.push(target);
        }
    }
    out
}

/// Whether the service is started by a `.socket` unit of its name that
/// is enabled by its [Install] section (dbus, avahi …).
fn socket_installed(root: &Path, name: &unit::UnitName) -> bool {
    let Some(sn) = unit::UnitName::parse(&format!("{}.socket", name.prefix)) else {
        return false;
    };
    if name.instance.is_some() {
        return false;
    }
    match unit::load(root, &sn) {
        Ok((entries, _)) => {
            let install = entries
                .iter()
                .any(|e| e.section == "Install" && e.key == "WantedBy")
                || wanted_by_link(root, &sn.full).is_some();
            let accept = entries
                .iter()
                .any(|e| e.key == "Accept" && unit::parse_bool(&e.value) == Some(true));
            install && !accept
        }
        Err(_) => false,
    }
}

/// The target that wants `unit` through a link in a `TARGET.wants/`
/// directory (how Debian's packages enable units, and how some are wanted
/// statically, dbus.socket by sockets.target).
fn wanted_by_link(root: &Path, unit: &str) -> Option<String> {
    for t in [
        "multi-user.target",
        "default.target",
        "graphical.target",
        "sockets.target",
    ] {
        for dir in unit::SEARCH_PATH {
            let link = root.join(dir).join(format!("{t}.wants")).join(unit);
            if std::fs::symlink_metadata(&link).is_ok() {
                return Some(t.to_string());
            }
        }
    }
    None
}

/// Whether the sysv script of this name is started from /etc/rcS.d, as
/// runit's stage 1 does before any service (networking, udev …): such a
/// unit belongs to boot, not to supervision.
fn in_stage1(root: &Path, stem: &str) -> bool {
    let Ok(rd) = std::fs::read_dir(root.join("etc/rcS.d")) else {
        return false;
    };
    rd.flatten().any(|e| {
        let n = e.file_name();
        let n = n.to_string_lossy();
        n.len() > 3 && n.starts_with('S') && n[3..] == *stem
    })
}
