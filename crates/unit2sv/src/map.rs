//! A typed unit to the files of a runit service directory (docs/unit2sv.md
//! says what each directive becomes and why).

use crate::typed::{DirKind, Type, Unit};
use crate::unit::{Exec, Seg, Word};

/// The shell function the dependency lines call: waits up to 5 s for the
/// dependency's runsv (its supervise/ok FIFO), then starts it and waits
/// up to 60 s for it to be up.
const DEP_FN: &str = "dep() { w=0; while [ ! -p \"$1/supervise/ok\" ] && [ $w -lt 50 ]; do sleep 0.1; w=$((w+1)); done; sv -w 60 start \"$1\" >/dev/null; }\n";
use std::fmt::Write;

/// One file of the service directory, relative to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutFile {
    pub path: String,
    pub body: String,
    pub mode: u32,
}

#[derive(Clone, Debug, Default)]
pub struct Service {
    pub name: String,
    pub files: Vec<OutFile>,
    pub warnings: Vec<String>,
    /// WantedBy= names the multi-user (or default/graphical) target.
    pub enable: bool,
}

/// Where the service directories are, as the scripts see them at run time.
pub struct Layout {
    /// `sv`'s service directory for dependencies (`SVDIR`).
    pub svdir: String,
    /// The log directory's parent (`/var/log/runit`).
    pub logdir: String,
}

impl Default for Layout {
    fn default() -> Layout {
        Layout {
            svdir: "/etc/service".into(),
            logdir: "/var/log/runit".into(),
        }
    }
}

/// systemd's PATH for services.
const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// Where finish learns that a stop was asked for (`control/t` leaves a
/// mark), so `Restart=` is applied only to exits nobody asked for.
const STOP_MARKS: &str = "/run/unit2sv";

/// Quotes `s` for sh when it needs it.
pub fn sh_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c))
    {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// A word of an Exec line for sh: literal parts quoted, `${X}` as one
/// word, a lone `$X` split at spaces (systemd's rule for each form).
fn sh_word(w: &Word) -> String {
    if let [Seg::Var {
        name,
        braced: false,
    }] = w.as_slice()
    {
        return format!("${name}");
    }
    let mut out = String::new();
    for s in w {
        match s {
            Seg::Lit(l) => out.push_str(&sh_quote(l)),
            Seg::Var { name, .. } => {
                let _ = write!(out, "\"${{{name}}}\"");
            }
        }
    }
    if out.is_empty() {
        out.push_str("''");
    }
    out
}

fn comment(out: &mut String, text: &str) {
    for line in text.lines() {
        let _ = writeln!(out, "# {line}");
    }
}

/// The dependency's service name, or None for a unit that is not a
/// service (targets, sockets, mounts: no counterpart under runit).
fn dep_service(dep: &str) -> Option<String> {
    if let Some(s) = dep.strip_suffix(".service") {
        return Some(s.to_string());
    }
    // A socket is bound by its service's run (unit2sv --listen), so
    // needing the socket is needing that service.
    if let Some(s) = dep.strip_suffix(".socket") {
        return Some(s.to_string());
    }
    if !dep.contains('.') {
        return Some(dep.to_string());
    }
    None
}

/// One Limit* directive as dash's `ulimit` (soft and hard, as systemd
/// sets both; chpst only sets soft limits under the hard one).
fn ulimit(svc: &str, name: &str, value: &str) -> Result<String, String> {
    let (flag, unit): (char, u64) = match name {
        "CPU" => ('t', 1),
        "FSIZE" => ('f', 512),
        "DATA" => ('d', 1024),
        "STACK" => ('s', 1024),
        "CORE" => ('c', 512),
        "RSS" => ('m', 1024),
        "NOFILE" => ('n', 1),
        "AS" => ('v', 1024),
        "NPROC" => ('p', 1),
        "MEMLOCK" => ('l', 1024),
        "LOCKS" => ('w', 1),
        "RTPRIO" => ('r', 1),
        _ => return Err("no ulimit for it in sh".into()),
    };
    let conv = |v: &str| -> Result<String, String> {
        let v = v.trim();
        if v == "infinity" {
            return Ok("unlimited".into());
        }
        let (num, mult) = match v.char_indices().last() {
            Some((i, c)) if "KMGTPE".contains(c) => {
                let m = 1024u64.pow("KMGTPE".find(c).unwrap() as u32 + 1);
                (&v[..i], m)
            }
            _ => (v, 1),
        };
        let n: u64 = num.parse().map_err(|_| format!("not a number: {v}"))?;
        Ok((n.saturating_mul(mult) / unit).to_string())
    };
    // Raising a hard limit needs CAP_SYS_RESOURCE; without it the soft
    // limit goes as high as the hard one allows, and a line says so.
    let short = sh_quote(&format!(
        "{svc}: Limit{name}={value}: above the hard limit, which may not be raised here; soft limit set to"
    ));
    let fallback = format!(
        "{{ ulimit -S{flag} \"$(ulimit -H{flag})\"; echo {short} \"$(ulimit -H{flag})\"; }}"
    );
    Ok(match value.split_once(':') {
        Some((s, h)) => format!(
            "ulimit -H{flag} {} 2>/dev/null && ulimit -S{flag} {} 2>/dev/null || {fallback}",
            conv(h)?,
            conv(s)?
        ),
        None => format!("ulimit -{flag} {} 2>/dev/null || {fallback}", conv(value)?),
    })
}

pub fn map(u: &Unit, layout: &Layout) -> Service {
    let name = u.service_name();
    let mut warn: Vec<String> = u.notes.clone();
    let mut files = Vec::new();
    let src = u.name.as_ref().map(|n| n.full.clone()).unwrap_or_default();

    // Comments in run for what is not honoured, each with a warning.
    let mut unhonoured = String::new();
    for (sec, key, val, why) in &u.unhandled {
        let _ = writeln!(unhonoured, "# not honoured: [{sec}] {key}={val} ({why})");
        warn.push(format!("{key}={val}: not honoured ({why})"));
    }

    let user = if u.dynamic_user && u.user.is_none() {
        Some(name.replace('@', "-"))
    } else {
        u.user.clone().filter(|s| s != "root" && s != "0")
    };

    // What run, finish and the control scripts all start with: PATH,
    // umask, environment, the account.
    let mut env = String::new();
    // systemd's PATH, after the one runsvdir was given.
    let _ = writeln!(
        env,
        "PATH=${{PATH:+$PATH:}}{PATH}\nexport PATH\numask 022\nset -f"
    );
    for (k, v) in &u.environment {
        let _ = writeln!(env, "export {}={}", k, sh_quote(v));
    }
    for (path, optional) in &u.environment_files {
        if *optional {
            let _ = writeln!(
                env,
                "if [ -r {0} ]; then set -a; . {0}; set +a; fi",
                sh_quote(path)
            );
        } else {
            let _ = writeln!(env, "set -a; . {} || exit 111; set +a", sh_quote(path));
        }
    }
    for k in &u.unset_environment {
        let _ = writeln!(env, "unset {}", sh_quote(k));
    }
    if let Some(user) = &user {
        let q = sh_quote(user);
        if u.dynamic_user {
            let _ = writeln!(
                env,
                "id -u {q} >/dev/null 2>&1 || useradd --system --no-create-home --home-dir / --shell /usr/sbin/nologin {q} || exit 111"
            );
        }
        // systemd gives the user's groups (initgroups) and sets these.
        let _ = writeln!(env, "groups=$(id -Gn {q}) || exit 111");
        let mut account = format!("{user}:");
        if let Some(g) = &u.group {
            account.push_str(g);
            account.push(':');
        }
        let supp: String = u
            .supplementary_groups
            .iter()
            .map(|g| format!(":{g}"))
            .collect();
        let _ = writeln!(
            env,
            "account=\"{}$(echo $groups | tr ' ' :){}\"",
            account.replace('"', ""),
            supp.replace('"', "")
        );
        let _ = writeln!(
            env,
            "export USER={q} LOGNAME={q} HOME=\"$(getent passwd {q} | cut -d: -f6)\" SHELL=\"$(getent passwd {q} | cut -d: -f7)\""
        );
    }
    for d in &u.dirs {
        if !d.names.is_empty() {
            let paths: Vec<String> = d
                .names
                .iter()
                .map(|n| format!("{}/{}", d.kind.base(), n))
                .collect();
            let _ = writeln!(
                env,
                "export {}={}",
                d.kind.env(),
                sh_quote(&paths.join(":"))
            );
        }
    }

    let chpst = |e: &Exec| -> String {
        let mut opts: Vec<String> = Vec::new();
        if !e.full_privileges && !e.keep_user && user.is_some() {
            opts.push("-u \"$account\"".into());
        }
        if !e.full_privileges {
            for k in &u.sandbox {
                opts.push(format!("-S {}", sh_quote(k)));
            }
        }
        if let Some(m) = &u.umask {
            opts.push(format!("-S umask={}", sh_quote(m)));
        }
        if let Some(n) = &u.nice {
            opts.push(format!("-n {}", sh_quote(n)));
        }
        if let Some(a) = &e.argv0 {
            opts.push(format!("-b {}", sh_word(a)));
        }
        if opts.is_empty() {
            String::new()
        } else {
            format!("chpst {} ", opts.join(" "))
        }
    };
    let cmd = |e: &Exec| -> String {
        let words: Vec<String> = e.words.iter().map(sh_word).collect();
        format!("{}{}", chpst(e), words.join(" "))
    };
    // A command run to its end: a failure ends the script unless `-`.
    let step = |out: &mut String, e: &Exec, fail: &str| {
        if e.ignore_failure {
            let _ = writeln!(out, "{} || true", cmd(e));
        } else {
            let _ = writeln!(out, "{} || {fail}", cmd(e));
        }
    };

    // ---- run
    let mut run = String::new();
    let _ = writeln!(run, "#!/bin/sh");
    let _ = writeln!(
        run,
        "# Made by unit2sv from {src}; re-running unit2sv keeps edits (see .unit2sv)."
    );
    if let Some(d) = &u.description {
        comment(&mut run, d);
    }
    run.push_str(&unhonoured);
    let _ = writeln!(run, "exec 2>&1");
    run.push_str(&env);

    for (key, val) in &u.conditions {
        let (neg, path) = match val.strip_prefix('!') {
            Some(p) => (true, p),
            None => (false, val.as_str()),
        };
        let (trig, path) = match path.strip_prefix('|') {
            Some(p) => (true, p),
            None => (false, path),
        };
        let test = match key
            .trim_start_matches("Condition")
            .trim_start_matches("Assert")
        {
            "PathExists" => "-e",
            "PathIsDirectory" => "-d",
            "FileNotEmpty" => "-s",
            "FileIsExecutable" => "-x",
            "PathIsSymbolicLink" => "-L",
            "DirectoryNotEmpty" => "-d",
            _ => "",
        };
        if test.is_empty() || trig {
            let _ = writeln!(run, "# not honoured: {key}={val} (no shell test for it)");
            warn.push(format!("{key}={val}: not honoured (no shell test for it)"));
            continue;
        }
        let q = sh_quote(path);
        let cond = if neg {
            format!("[ ! {test} {q} ]")
        } else {
            format!("[ {test} {q} ]")
        };
        let _ = writeln!(
            run,
            "{cond} || {{ echo {}; sv once \"$PWD\" >/dev/null; exit 0; }}",
            sh_quote(&format!("{name}: {key}={val} not met; not started"))
        );
    }

    // Dependencies: runit's idiom, `sv -w N start DEP` before the service,
    // through `dep`: sv fails at once while DEP's runsv has not made its
    // supervise/ok yet (runsvdir starts them one after another at boot),
    // so it first waits up to 5 s for that FIFO.
    let mut seen = Vec::new();
    let mut deps = String::new();
    for (list, required) in [(&u.requires, true), (&u.wants, false), (&u.after, false)] {
        for d in list.iter() {
            let Some(svc) = dep_service(d) else { continue };
            if seen.contains(&svc) || svc == name {
                continue;
            }
            seen.push(svc.clone());
            let wanted = u.requires.contains(d) || u.wants.contains(d);
            let q = sh_quote(&format!("{}/{}", layout.svdir, svc));
            if !wanted {
                // After= alone orders, it does not pull in: wait only for
                // a service that is enabled anyway.
                let _ = writeln!(deps, "[ ! -e {q} ] || dep {q} || true");
                continue;
            }
            let missing = sh_quote(&format!(
                "{name}: dependency {svc}: no service {}/{svc}",
                layout.svdir
            ));
            let failed = sh_quote(&format!("{name}: dependency {svc} did not start"));
            if required {
                let _ = writeln!(
                    deps,
                    "[ -e {q} ] || {{ echo {missing}; sleep 5; exit 1; }}\ndep {q} || {{ echo {failed}; sleep 5; exit 1; }}"
                );
            } else {
                let _ = writeln!(
                    deps,
                    "if [ -e {q} ]; then dep {q} || echo {failed}; else echo {missing}; fi"
                );
            }
        }
    }
    if !deps.is_empty() {
        run.push_str(DEP_FN);
        run.push_str(&deps);
    }

    for t in &u.tmpfiles {
        let mut opts = String::new();
        if let Some(us) = &t.user {
            let _ = write!(opts, " -o {}", sh_quote(us));
        }
        if let Some(g) = &t.group {
            let _ = write!(opts, " -g {}", sh_quote(g));
        }
        let mode = t.mode.clone().unwrap_or_else(|| "0755".into());
        let _ = writeln!(
            run,
            "install -d{opts} -m {} {} || exit 111  # tmpfiles.d",
            sh_quote(&mode),
            sh_quote(&t.path)
        );
    }
    for d in &u.dirs {
        let mode = d.mode.clone().unwrap_or_else(|| "0755".into());
        for n in &d.names {
            if n.contains("..") || n.starts_with('/') {
                warn.push(format!(
                    "{:?} directory {n}: not a plain relative name, not made",
                    d.kind
                ));
                continue;
            }
            let path = sh_quote(&format!("{}/{}", d.kind.base(), n));
            let owner = match &user {
                Some(us) => {
                    let g = u
                        .group
                        .clone()
                        .map(|g| sh_quote(&g))
                        .unwrap_or_else(|| format!("\"$(id -g {})\"", sh_quote(us)));
                    format!(" -o {} -g {}", sh_quote(us), g)
                }
                None => String::new(),
            };
            let _ = writeln!(
                run,
                "install -d{owner} -m {} {path} || exit 111",
                sh_quote(&mode)
            );
        }
    }
    for (k, v) in &u.limits {
        match ulimit(&name, k, v) {
            Ok(l) => {
                let _ = writeln!(run, "{l}");
            }
            Err(why) => {
                let _ = writeln!(run, "# not honoured: Limit{k}={v} ({why})");
                warn.push(format!("Limit{k}={v}: not honoured ({why})"));
            }
        }
    }
    match &u.working_directory {
        Some(wd) => {
            let (optional, wd) = match wd.strip_prefix('-') {
                Some(w) => (true, w),
                None => (false, wd.as_str()),
            };
            let target = if wd == "~" {
                "\"$HOME\"".to_string()
            } else {
                sh_quote(wd)
            };
            if optional {
                let _ = writeln!(run, "cd {target} 2>/dev/null || cd /");
            } else {
                let _ = writeln!(run, "cd {target} || exit 111");
            }
        }
        None => {
            let _ = writeln!(run, "cd /");
        }
    }
    for e in &u.exec_start_pre {
        step(&mut run, e, "exit 1");
    }

    if u.exec_start.is_empty() && u.kind != Type::Oneshot {
        warn.push("no ExecStart=; the service only waits".into());
    }
    let main = u.exec_start.first();
    if !u.exec_start_post.is_empty() && u.kind != Type::Oneshot {
        for e in &u.exec_start_post {
            let _ = writeln!(run, "# not honoured: ExecStartPost={} (runs after the start; no place for it before exec)", cmd(e));
        }
        warn.push(
            "ExecStartPost=: not honoured (nothing runs after the exec of the service)".into(),
        );
    }
    // Socket activation: unit2sv --listen binds and passes the sockets.
    let mut listen = String::new();
    if !u.sockets.is_empty() {
        if matches!(u.kind, Type::Oneshot | Type::Forking) {
            warn.push("socket activation of a oneshot or forking service is not supported".into());
        } else {
            for s in &u.sockets {
                let mut spec = sh_quote(&s.listen);
                if s.listen.starts_with('/') {
                    spec.push(':');
                    spec.push_str(&sh_quote(s.mode.as_deref().unwrap_or("0666")));
                    if s.user.is_some() || s.group.is_some() {
                        let uid = s
                            .user
                            .as_ref()
                            .map(|x| format!("$(id -u {})", sh_quote(x)))
                            .unwrap_or_default();
                        let gid = s
                            .group
                            .as_ref()
                            .map(|x| format!("$(getent group {} | cut -d: -f3)", sh_quote(x)))
                            .unwrap_or_default();
                        spec = format!(
                            "\"{}:{}:{}:{}\"",
                            s.listen.replace('"', ""),
                            s.mode.as_deref().unwrap_or("0666"),
                            uid,
                            gid
                        );
                    }
                }
                let _ = write!(listen, "--listen={spec} ");
            }
            let names = u.socket_unit.clone().unwrap_or_default();
            listen = format!("unit2sv {listen}--fdnames={} -- ", sh_quote(&names));
        }
    }
    match u.kind {
        Type::Oneshot => {
            for e in &u.exec_start {
                step(&mut run, e, "exit 1");
            }
            for e in &u.exec_start_post {
                step(&mut run, e, "exit 1");
            }
            if u.remain_after_exit {
                let _ = writeln!(
                    run,
                    "# RemainAfterExit=yes: up until told to stop\nexec sleep infinity"
                );
            } else {
                let _ = writeln!(run, "# oneshot: done; no restart until the next sv start\nexec sv once \"$PWD\" >/dev/null");
            }
        }
        Type::Forking => {
            // runsv follows the daemon it leaves (`pidfile`, below).
            if let Some(e) = main {
                let _ = writeln!(run, "exec {}", cmd(e));
            }
        }
        Type::Dbus => {
            if let (Some(e), Some(bus)) = (main, &u.bus_name) {
                let bus = sh_quote(bus);
                // No sd_bus in runsv: a watcher asks the bus until the
                // name has an owner, then says ready on fd 3.
                let _ = writeln!(
                    run,
                    "( i=0; while [ $i -lt 600 ]; do dbus-send --system --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus.NameHasOwner string:{bus} 2>/dev/null | grep -q 'boolean true' && {{ echo >&3; exit 0; }}; sleep 0.1; i=$((i+1)); done ) &"
                );
                let _ = writeln!(run, "exec {}{} 3>&-", listen, cmd(e));
            } else if let Some(e) = main {
                let _ = writeln!(run, "exec {}", cmd(e));
            }
        }
        _ => {
            if matches!(u.kind, Type::Notify | Type::NotifyReload) {
                // runsv's socket is root's: the daemon gets one it can
                // reach after dropping root, relayed when it is the sender.
                let sock = sh_quote(&format!("{STOP_MARKS}/notify/{name}"));
                let all = if u.notify_all { "=all" } else { "" };
                let _ = writeln!(
                    run,
                    "unit2sv --notify-relay{all} {sock} || exit 111\nexport NOTIFY_SOCKET={sock}"
                );
            }
            if let Some(e) = main {
                if u.exec_start.len() > 1 {
                    warn.push(
                        "several ExecStart= lines outside Type=oneshot; the first is used".into(),
                    );
                }
                let _ = writeln!(run, "exec {}{}", listen, cmd(e));
            } else {
                let _ = writeln!(run, "exec sleep infinity");
            }
        }
    }
    files.push(OutFile {
        path: "run".into(),
        body: run,
        mode: 0o755,
    });

    // ---- readiness and stop files for runsv
    match u.kind {
        Type::Notify | Type::NotifyReload => {
            files.push(OutFile {
                path: "notify-socket".into(),
                body: String::new(),
                mode: 0o644,
            });
        }
        Type::Forking => {
            // Empty without PIDFile=: the one process left is the daemon.
            let body = u
                .pid_file
                .as_ref()
                .map(|p| format!("{p}\n"))
                .unwrap_or_default();
            files.push(OutFile {
                path: "pidfile".into(),
                body,
                mode: 0o644,
            });
        }
        Type::Dbus if u.bus_name.is_some() => {
            files.push(OutFile {
                path: "notification-fd".into(),
                body: "3\n".into(),
                mode: 0o644,
            });
        }
        _ => {}
    }
    let timeout = match u.timeout_stop_ms {
        Some(t) => t,
        None => Some(90_000),
    };
    if let (true, Some(ms)) = (u.send_sigkill, timeout) {
        if ms > 0 {
            files.push(OutFile {
                path: "timeout-kill".into(),
                body: format!("{ms}\n"),
                mode: 0o644,
            });
        }
    }
    let kill_mode = u
        .kill_mode
        .clone()
        .unwrap_or_else(|| "control-group".into());
    match kill_mode.as_str() {
        "control-group" | "mixed" => files.push(OutFile {
            path: "kill-tree".into(),
            body: String::new(),
            mode: 0o644,
        }),
        "process" | "none" => {}
        other => warn.push(format!("KillMode={other}: not known; taken as process")),
    }

    // ---- control/t: ExecStop and KillSignal, and the mark for finish.
    let mut t = String::new();
    let _ = writeln!(t, "#!/bin/sh\n# Made by unit2sv: sv down/restart/term. ExecStop=, then KillSignal=.\nexec 2>&1");
    t.push_str(&env);
    let mark = sh_quote(&format!("{STOP_MARKS}/{name}"));
    let _ = writeln!(t, "mkdir -p {STOP_MARKS} && : > {mark}");
    let _ = writeln!(
        t,
        "MAINPID=$(cat supervise/pid 2>/dev/null)\nexport MAINPID"
    );
    for e in &u.exec_stop {
        let _ = writeln!(t, "{} || true", cmd(e));
    }
    let kill_signal = u.kill_signal.clone().unwrap_or_else(|| "SIGTERM".into());
    let sig = kill_signal.trim_start_matches("SIG").to_string();
    if sig == "TERM" || sig == "15" {
        let _ = writeln!(
            t,
            "exit 1  # runsv sends TERM itself (and KILL after timeout-kill)"
        );
    } else {
        let _ = writeln!(
            t,
            "[ -z \"$MAINPID\" ] || kill -{} \"$MAINPID\" 2>/dev/null\nexit 0",
            sh_quote(&sig)
        );
    }
    files.push(OutFile {
        path: "control/t".into(),
        body: t,
        mode: 0o755,
    });

    // ---- control/h: ExecReload, or nothing (HUP is not a reload for
    // every daemon; systemd refuses a reload without ExecReload=).
    let mut h = String::new();
    let _ = writeln!(
        h,
        "#!/bin/sh\n# Made by unit2sv: sv reload (sv hup) runs ExecReload=.\nexec 2>&1"
    );
    if u.exec_reload.is_empty() && u.kind != Type::NotifyReload {
        let _ = writeln!(
            h,
            "echo {}\nexit 0",
            sh_quote(&format!(
                "{name}: the unit has no ExecReload=; not reloaded"
            ))
        );
    } else if u.exec_reload.is_empty() {
        let _ = writeln!(h, "exit 1  # Type=notify-reload: runsv sends HUP");
    } else {
        h.push_str(&env);
        let _ = writeln!(
            h,
            "MAINPID=$(cat supervise/pid 2>/dev/null)\nexport MAINPID"
        );
        for e in &u.exec_reload {
            step(&mut h, e, "exit 0");
        }
        let _ = writeln!(h, "exit 0");
    }
    files.push(OutFile {
        path: "control/h".into(),
        body: h,
        mode: 0o755,
    });

    // ---- finish: ExecStopPost=, the runtime directories, Restart=.
    let mut f = String::new();
    let _ = writeln!(f, "#!/bin/sh\n# Made by unit2sv: runs when ./run has ended ($1 exit code, -1 if killed; $2 signal).\nexec 2>&1");
    f.push_str(&env);
    let _ = writeln!(
        f,
        "if [ \"$1\" = 0 ]; then SERVICE_RESULT=success; EXIT_CODE=exited; EXIT_STATUS=0\nelif [ \"$1\" = -1 ]; then SERVICE_RESULT=signal; EXIT_CODE=killed; EXIT_STATUS=$2\nelse SERVICE_RESULT=exit-code; EXIT_CODE=exited; EXIT_STATUS=$1; fi\nexport SERVICE_RESULT EXIT_CODE EXIT_STATUS"
    );
    for e in &u.exec_stop_post {
        let _ = writeln!(f, "{} || true", cmd(e));
    }
    for d in u
        .dirs
        .iter()
        .filter(|d| d.kind == DirKind::Runtime && !u.runtime_directory_preserve)
    {
        for n in d
            .names
            .iter()
            .filter(|n| !n.contains("..") && !n.starts_with('/') && !n.is_empty())
        {
            let _ = writeln!(f, "rm -rf {}", sh_quote(&format!("/run/{n}")));
        }
    }
    let restart = u.restart.clone().unwrap_or_else(|| "no".into());
    let mut clean = vec![
        "0,*".to_string(),
        "-1,1".into(),
        "-1,2".into(),
        "-1,13".into(),
        "-1,15".into(),
    ];
    for s in &u.success_exit_status {
        if s.chars().all(|c| c.is_ascii_digit()) {
            clean.push(format!("{s},*"));
        } else if let Some(n) = signal_number(s) {
            clean.push(format!("-1,{n}"));
        }
    }
    let clean = clean.join("|");
    let _ = writeln!(
        f,
        "# A stop asked for through sv (control/t's mark) is never a failure."
    );
    let _ = writeln!(f, "if [ -e {mark} ]; then rm -f {mark}; exit 0; fi");
    let stay_down = match restart.as_str() {
        "always" => None,
        "no" => Some("*".to_string()),
        "on-success" => None,
        "on-failure" => Some(clean.clone()),
        "on-abnormal" => Some(format!("{clean}|[0-9]*,*")),
        "on-abort" => Some(format!("{clean}|[0-9]*,*")),
        "on-watchdog" => Some("*".to_string()),
        other => {
            warn.push(format!("Restart={other}: not known; taken as always"));
            None
        }
    };
    for code in &u.restart_prevent_exit_status {
        let pat = match signal_number(code) {
            Some(n) => format!("-1,{n}"),
            None => format!("{code},*"),
        };
        let _ = writeln!(f, "case \"$1,$2\" in {pat}) sv down \"$PWD\" >/dev/null; exit 0 ;; esac  # RestartPreventExitStatus");
    }
    let _ = writeln!(f, "# Restart={restart}");
    match (restart.as_str(), stay_down) {
        ("on-success", _) => {
            let _ = writeln!(
                f,
                "case \"$1,$2\" in\n{clean}) ;;\n*) sv down \"$PWD\" >/dev/null ;;\nesac"
            );
        }
        (_, Some(pat)) => {
            let _ = writeln!(
                f,
                "case \"$1,$2\" in\n{pat}) sv down \"$PWD\" >/dev/null ;;\nesac"
            );
        }
        (_, None) => {}
    }
    if let Some(ms) = u.restart_sec_ms {
        if ms > 1000 {
            let _ = writeln!(f, "sleep {}", (ms - 1000) as f64 / 1000.0);
        }
    }
    let _ = writeln!(f, "exit 0");
    files.push(OutFile {
        path: "finish".into(),
        body: f,
        mode: 0o755,
    });

    // ---- log/run, as Debian's packaged service directories have it.
    let logdir = sh_quote(&format!("{}/{}", layout.logdir, name));
    let log = format!(
        "#!/bin/sh\n# Made by unit2sv: svlogd into {0} as _runit-log, as Debian's runit services.\nmkdir -p {0}\nchown _runit-log:adm {0}\nchmod 750 {0}\nexec chpst -u _runit-log svlogd -tt {0}\n",
        logdir
    );
    files.push(OutFile {
        path: "log/run".into(),
        body: log,
        mode: 0o755,
    });

    let enable = u.socket_enabled
        || u.wanted_by.iter().any(|t| {
            matches!(
                t.as_str(),
                "multi-user.target" | "default.target" | "graphical.target"
            )
        });
    Service {
        name,
        files,
        warnings: warn,
        enable,
    }
}

fn signal_number(s: &str) -> Option<i32> {
    let s = s.trim_start_matches("SIG");
    Some(match s {
        "HUP" => 1,
        "INT" => 2,
        "QUIT" => 3,
        "KILL" => 9,
        "USR1" => 10,
        "USR2" => 12,
        "PIPE" => 13,
        "TERM" => 15,
        _ => return None,
    })
}
