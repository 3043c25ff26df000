//! Stage 1's plan: the native steps, the packages' rcS scripts that have
//! no native equivalent, and what each needs. Built from a description of
//! the system, so that the ordering is tested without touching one.

use crate::fstab::{parent_mount, Entry};
use crate::lsb::Header;
use crate::schedule::Step;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Proc,
    Sys,
    Dev,
    Run,
    DevSub,
    StaticNodes,
    Hostname,
    Early,
    Coldplug,
    Modules,
    FsckRoot,
    RootRw,
    /// fsck of one file system (its fstab source)
    Fsck(String),
    Mount(PathBuf),
    Swap,
    Sysctl,
    Seed,
    Clean,
    Script(PathBuf),
}

/// An rcS.d script: the name from its link (`S02udev` -> `udev`), its path.
#[derive(Debug, Clone)]
pub struct Script {
    pub name: String,
    pub path: PathBuf,
    pub header: Option<Header>,
}

/// What the plan is built from.
#[derive(Debug, Clone, Default)]
pub struct System {
    pub fstab: Vec<Entry>,
    /// mount points mounted already (/proc, /dev, ... by the initramfs)
    pub mounted: Vec<PathBuf>,
    /// service directories in /etc/runit/early
    pub early: Vec<String>,
    /// rcS.d scripts in their order, those skipped by the admin left out
    pub scripts: Vec<Script>,
    /// fstab's `/dev/...` sources that exist already (the kernel's own
    /// names, in devtmpfs): what uses only these need not wait for udev
    pub present: Vec<String>,
}

impl System {
    /// Whether the source of `e` may only appear once udev has handled the
    /// kernel's events: a tag (`UUID=`...) or a `/dev` path not there yet
    /// (`/dev/disk/by-uuid/...`, `/dev/mapper/...`).
    fn waits_for_devices(&self, e: &Entry) -> bool {
        let tag = ["UUID=", "LABEL=", "PARTUUID=", "PARTLABEL="]
            .iter()
            .any(|t| e.spec.starts_with(t));
        tag || (e.spec.starts_with("/dev/") && !self.present.contains(&e.spec))
    }

    /// The needs of a step using the sources of `entries`.
    fn device_needs(&self, entries: &[&Entry]) -> &'static [&'static str] {
        if entries.iter().any(|e| self.waits_for_devices(e)) {
            &["devices"]
        } else {
            &["proc"]
        }
    }
}

/// The rcS scripts stage 1 does natively, and the steps that stand for
/// them when another script names them.
pub const REPLACED: &[(&str, &[&str])] = &[
    ("mountkernfs", &["proc", "sys", "run"]),
    ("mountdevsubfs", &["devsub"]),
    ("udev", &["devices"]),
    ("checkroot", &["root"]),
    ("checkfs", &["fsck"]),
    ("checkroot-bootclean", &["clean"]),
    ("mountall", &["localfs"]),
    ("mountall-bootclean", &["clean"]),
    ("mountnfs-bootclean", &["clean"]),
    ("hostname", &["hostname"]),
    ("procps", &["sysctl"]),
    ("kmod", &["modules"]),
    ("urandom", &["seed"]),
    ("random-seed", &["seed"]),
    ("bootmisc", &["clean"]),
    ("bootlogs", &[]),
];

/// The insserv facilities and the scripts that make them up.
fn facility(name: &str) -> Option<&'static [&'static str]> {
    Some(match name {
        "$remote_fs" => &["mountnfs", "$local_fs"],
        "$network" => &[
            "networking",
            "ifupdown",
            "NetworkManager",
            "connman",
            "wicd",
            "systemd-networkd",
        ],
        "$time" => &["hwclock", "ntp", "ntpdate", "chrony", "openntpd"],
        "$syslog" => &[
            "rsyslog",
            "syslog-ng",
            "sysklogd",
            "socklog",
            "busybox-syslogd",
        ],
        "$named" => &["named", "bind9", "dnsmasq", "unbound", "pdnsd", "lwresd"],
        "$portmap" => &["rpcbind", "portmap"],
        _ => return None,
    })
}

/// The name a script goes by: its link's, `.sh` left out.
pub fn base_name(name: &str) -> &str {
    name.strip_suffix(".sh").unwrap_or(name)
}

fn replaced(name: &str) -> Option<&'static [&'static str]> {
    REPLACED.iter().find(|(n, _)| *n == name).map(|(_, s)| *s)
}

/// Whether stage 1 does this script's work itself (udev's only when
/// udevd is supervised from /etc/runit/early).
pub fn is_replaced(s: &Script, udev: bool) -> bool {
    let native = |n: &str| replaced(n).is_some() && (udev || n != "udev");
    native(base_name(&s.name))
        || s.header
            .as_ref()
            .is_some_and(|h| h.provides.iter().any(|p| native(p)))
}

const CRITICAL: bool = true;

fn step(name: &str, needs: &[&str], critical: bool, action: Option<Action>) -> Step<Action> {
    Step {
        name: name.to_string(),
        needs: needs.iter().map(|s| s.to_string()).collect(),
        critical,
        action,
    }
}

/// Name of the step checking the file system mounted on `p`.
pub fn fsck_step(p: &Path) -> String {
    format!("fsck {}", p.display())
}

/// Name of the step mounting `p`.
pub fn mount_step(p: &Path) -> String {
    format!("mount {}", p.display())
}

/// The plan: native steps, then the rcS scripts that remain. `stage2` is
/// the milestone after which stage 2 may start.
pub fn build(sys: &System) -> Vec<Step<Action>> {
    let mounted = |p: &str| sys.mounted.iter().any(|m| m == Path::new(p));
    let root = sys.fstab.iter().find(|e| e.is_root());
    let udev = sys.early.iter().any(|e| e == "udevd");
    let mut plan = vec![
        step(
            "proc",
            &[],
            CRITICAL,
            (!mounted("/proc")).then_some(Action::Proc),
        ),
        step(
            "sys",
            &[],
            CRITICAL,
            (!mounted("/sys")).then_some(Action::Sys),
        ),
        step(
            "dev",
            &[],
            CRITICAL,
            (!mounted("/dev")).then_some(Action::Dev),
        ),
        step("run", &[], CRITICAL, Some(Action::Run)),
        step("devsub", &["dev"], false, Some(Action::DevSub)),
        step("hostname", &[], false, Some(Action::Hostname)),
        step("modules", &["proc", "sys"], false, Some(Action::Modules)),
    ];
    if udev {
        plan.push(step(
            "static-nodes",
            &["dev", "proc"],
            false,
            Some(Action::StaticNodes),
        ));
    }
    if !sys.early.is_empty() {
        plan.push(step(
            "early",
            if udev {
                &["proc", "sys", "dev", "run", "static-nodes"]
            } else {
                &["proc", "sys", "dev", "run"]
            },
            false,
            Some(Action::Early),
        ));
    }
    // what needs block devices by name (fsck, mounts, swap) waits for them
    let devices: &[&str] = if udev {
        plan.push(step(
            "coldplug",
            &["early", "devsub"],
            false,
            Some(Action::Coldplug),
        ));
        &["coldplug"]
    } else if sys.scripts.iter().any(|s| base_name(&s.name) == "udev") {
        // udev without supervision: Debian's script starts it, coldplugs
        &["udev"]
    } else {
        &["dev"]
    };
    let mut devices_needs = devices.to_vec();
    devices_needs.push("proc");
    let devices_needs: Vec<&str> = devices_needs;
    plan.push(step("devices", &devices_needs, false, None));
    let check_root = root.is_some_and(|r| r.passno > 0);
    plan.push(step(
        "fsck-root",
        sys.device_needs(&root.into_iter().collect::<Vec<_>>()),
        CRITICAL,
        check_root.then_some(Action::FsckRoot),
    ));
    let root_rw = !root.is_some_and(|r| r.has("ro"));
    plan.push(step(
        "root",
        &["fsck-root"],
        CRITICAL,
        root_rw.then_some(Action::RootRw),
    ));
    let checked: Vec<&Entry> = sys
        .fstab
        .iter()
        .filter(|e| !e.is_root() && e.passno > 0 && e.is_local_mount())
        .collect();
    // each file system checked on its own, as soon as its device is there
    let mut all_checked = Vec::new();
    for e in &checked {
        let name = fsck_step(&e.file);
        all_checked.push(name.clone());
        plan.push(Step {
            name,
            needs: sys
                .device_needs(&[e])
                .iter()
                .map(|s| s.to_string())
                .collect(),
            critical: CRITICAL,
            action: Some(Action::Fsck(e.spec.clone())),
        });
    }
    plan.push(Step {
        name: "fsck".into(),
        needs: all_checked,
        critical: CRITICAL,
        action: None,
    });
    let local: Vec<&Entry> = sys
        .fstab
        .iter()
        .filter(|e| e.is_local_mount() && !sys.mounted.contains(&e.file))
        .collect();
    let points: Vec<&Path> = local.iter().map(|e| e.file.as_path()).collect();
    let mut localfs = vec!["root".to_string()];
    for e in &local {
        let mut needs = vec!["root".to_string()];
        if checked.iter().any(|c| c.file == e.file) {
            needs.push(fsck_step(&e.file));
        }
        needs.extend(sys.device_needs(&[e]).iter().map(|s| s.to_string()));
        if let Some(p) = parent_mount(&e.file, points.iter().copied()) {
            needs.push(mount_step(p));
        }
        // a bind mount needs the mount its source lies in
        if e.has("bind") || e.has("rbind") {
            if let Some(p) = parent_mount(Path::new(&e.spec), points.iter().copied()) {
                needs.push(mount_step(p));
            }
        }
        if e.file.starts_with("/dev") || e.file.starts_with("/run") {
            needs.push("devsub".into());
            needs.push("run".into());
        }
        let name = mount_step(&e.file);
        localfs.push(name.clone());
        plan.push(Step {
            name,
            needs,
            critical: CRITICAL,
            action: Some(Action::Mount(e.file.clone())),
        });
    }
    plan.push(Step {
        name: "localfs".into(),
        needs: localfs,
        critical: CRITICAL,
        action: None,
    });
    let swaps: Vec<&Entry> = sys
        .fstab
        .iter()
        .filter(|e| e.is_swap() && !e.has("noauto"))
        .collect();
    let mut swap_needs = vec!["localfs"];
    swap_needs.extend(sys.device_needs(&swaps));
    plan.push(step(
        "swap",
        &swap_needs,
        false,
        (!swaps.is_empty()).then_some(Action::Swap),
    ));
    plan.push(step(
        "sysctl",
        &["proc", "modules", "localfs"],
        false,
        Some(Action::Sysctl),
    ));
    plan.push(step("seed", &["localfs", "dev"], false, Some(Action::Seed)));
    plan.push(step(
        "clean",
        &["localfs", "run"],
        false,
        Some(Action::Clean),
    ));
    // the early services up before stage 2's runsvdir looks at them
    let mut stage2 = vec![
        "localfs", "clean", "hostname", "devsub", "proc", "sys", "run",
    ];
    if !sys.early.is_empty() {
        stage2.push("early");
    }
    plan.push(step("stage2", &stage2, false, None));

    let natives: Vec<String> = plan.iter().map(|s| s.name.clone()).collect();
    let kept: Vec<&Script> = sys
        .scripts
        .iter()
        .filter(|s| !is_replaced(s, udev))
        .collect();
    let provides = |s: &Script| -> Vec<String> {
        let mut v = vec![base_name(&s.name).to_string()];
        if let Some(h) = &s.header {
            v.extend(h.provides.iter().cloned());
        }
        v
    };
    // the steps a name in a header stands for
    let resolve = |name: &str, before: bool| -> Vec<String> {
        let mut names: Vec<&str> = vec![name];
        if let Some(members) = facility(name) {
            names = members.to_vec();
        }
        let mut out = Vec::new();
        for n in names {
            if n == "$local_fs" {
                out.push("localfs".to_string());
                continue;
            }
            if let Some(steps) = replaced(n).filter(|_| udev || n != "udev") {
                if before && n == "mountall" {
                    out.extend(local_mounts(&plan));
                }
                if before && n == "checkroot" {
                    out.push("fsck-root".into());
                }
                if before && n == "checkfs" {
                    out.extend(fsck_steps(&plan));
                }
                out.extend(steps.iter().map(|s| s.to_string()));
                continue;
            }
            for s in &kept {
                if provides(s).iter().any(|p| p == n) {
                    out.push(s.name.clone());
                }
            }
        }
        out
    };
    let mut script_steps: Vec<Step<Action>> = Vec::new();
    let mut before: Vec<(String, String)> = Vec::new();
    for s in &kept {
        let mut needs = vec![
            "proc".to_string(),
            "sys".to_string(),
            "run".to_string(),
            "dev".to_string(),
        ];
        if let Some(h) = &s.header {
            for n in h.required_start.iter().chain(&h.should_start) {
                if n == "$all" {
                    needs.extend(natives.iter().cloned());
                    needs.extend(
                        kept.iter()
                            .filter(|k| !wants_all(k))
                            .map(|k| k.name.clone()),
                    );
                } else {
                    needs.extend(resolve(n, false));
                }
            }
            for n in &h.start_before {
                for target in resolve(n, true) {
                    before.push((target, s.name.clone()));
                }
            }
            // procps sets sysctls before the network comes up
            if provides(s)
                .iter()
                .any(|p| facility("$network").unwrap_or(&[]).contains(&p.as_str()))
            {
                needs.push("sysctl".into());
            }
        } else {
            // no header: after the local file systems, as insserv would
            needs.push("localfs".into());
        }
        script_steps.push(Step {
            name: s.name.clone(),
            needs,
            critical: false,
            action: Some(Action::Script(s.path.clone())),
        });
    }
    // the native steps keep the facilities their scripts' headers named
    // (urandom: $time)
    let seed_needs = resolve("$time", false);
    plan.extend(script_steps);
    if let Some(seed) = plan.iter_mut().find(|p| p.name == "seed") {
        seed.needs.extend(seed_needs);
    }
    for (target, who) in before {
        if let Some(t) = plan.iter_mut().find(|p| p.name == target) {
            if t.name != who {
                t.needs.push(who);
            }
        }
    }
    plan
}

fn wants_all(s: &Script) -> bool {
    s.header.as_ref().is_some_and(|h| {
        h.required_start
            .iter()
            .chain(&h.should_start)
            .any(|n| n == "$all")
    })
}

fn fsck_steps(plan: &[Step<Action>]) -> Vec<String> {
    plan.iter()
        .filter(|s| matches!(s.action, Some(Action::Fsck(_))))
        .map(|s| s.name.clone())
        .collect()
}

fn local_mounts(plan: &[Step<Action>]) -> Vec<String> {
    plan.iter()
        .filter(|s| matches!(s.action, Some(Action::Mount(_))))
        .map(|s| s.name.clone())
        .collect()
}

/// The steps that must have ended, directly or not, before `name`.
pub fn ancestors(plan: &[Step<Action>], name: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut todo = vec![name.to_string()];
    while let Some(n) = todo.pop() {
        if let Some(s) = plan.iter().find(|s| s.name == n) {
            for d in &s.needs {
                if !out.contains(d) && plan.iter().any(|p| &p.name == d) {
                    out.push(d.clone());
                    todo.push(d.clone());
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fstab;
    use crate::lsb;

    fn script(link: &str, header: &str) -> Script {
        let name = link[3..].to_string();
        Script {
            path: PathBuf::from(format!("/etc/rcS.d/{link}")),
            header: lsb::parse(&format!("### BEGIN INIT INFO\n{header}### END INIT INFO\n")),
            name,
        }
    }

    /// bookworm's rcS.d in the boot test's image
    fn debian() -> System {
        System {
            fstab: fstab::parse("UUID=1 / ext4 errors=remount-ro 0 1\n/dev/vdb /srv ext4 defaults 0 2\n/dev/vdc /srv/db ext4 defaults 0 2\n/dev/vdd none swap sw 0 0\n"),
            mounted: vec!["/proc".into(), "/sys".into(), "/dev".into(), "/run".into()],
            early: vec!["udevd".into()],
            present: vec!["/dev/vdb".into()],
            scripts: vec![
                script("S01hostname.sh", "# Provides: hostname\n# Required-Start:\n"),
                script("S01hwclock.sh", "# Provides: hwclock\n# Required-Start:\n"),
                script("S01mountkernfs.sh", "# Provides: mountkernfs\n# Required-Start:\n"),
                script("S02udev", "# Provides: udev\n# Required-Start: mountkernfs\n"),
                script("S04checkroot.sh", "# Provides: checkroot\n# Required-Start: mountdevsubfs hostname\n"),
                script("S06kmod", "# Provides: kmod\n# Required-Start:\n# Should-Start: checkroot\n"),
                script("S07mount-configfs", "# Provides: mount-configfs\n# Required-Start: mountkernfs\n# Should-Start: kmod\n"),
                script("S07mountall.sh", "# Provides: mountall\n# Required-Start: checkfs checkroot-bootclean\n"),
                script("S09brightness", "# Provides: brightness\n# Required-Start: $local_fs\n"),
                script("S09procps", "# Provides: procps\n# Required-Start: mountkernfs $local_fs\n# X-Start-Before: $network\n"),
                script("S09urandom", "# Provides: urandom\n# Required-Start: $local_fs $time\n"),
                script("S10networking", "# Provides: networking ifupdown\n# Required-Start: mountkernfs $local_fs urandom\n"),
                script("S11mountnfs.sh", "# Provides: mountnfs\n# Required-Start: $local_fs\n# Should-Start: $network $portmap nfs-common\n"),
                script("S13bootmisc.sh", "# Provides: bootmisc\n# Required-Start: $remote_fs\n"),
                script("S20lvm2", "# Provides: lvm2\n# Required-Start: mountdevsubfs udev\n# X-Start-Before: checkfs mountall\n"),
            ],
        }
    }

    fn get<'a>(plan: &'a [Step<Action>], name: &str) -> &'a Step<Action> {
        plan.iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("no step {name}"))
    }

    #[test]
    fn replaced_scripts_do_not_run_the_others_do_once() {
        let plan = build(&debian());
        let scripts: Vec<&str> = plan
            .iter()
            .filter(|s| matches!(s.action, Some(Action::Script(_))))
            .map(|s| s.name.as_str())
            .collect();
        assert_eq!(
            scripts,
            [
                "hwclock.sh",
                "mount-configfs",
                "brightness",
                "networking",
                "mountnfs.sh",
                "lvm2"
            ]
        );
        let mut names: Vec<&str> = plan.iter().map(|s| s.name.as_str()).collect();
        let all = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all, "a step twice");
    }

    #[test]
    fn mounts_in_dependency_order_after_root_fsck_and_devices() {
        let plan = build(&debian());
        let db = ancestors(&plan, "mount /srv/db");
        for n in [
            "mount /srv",
            "root",
            "fsck-root",
            "fsck /srv",
            "coldplug",
            "early",
            "devices",
        ] {
            assert!(
                db.contains(&n.to_string()),
                "{n} not before mount /srv/db: {db:?}"
            );
        }
        // already mounted by the initramfs: nothing to do
        assert_eq!(get(&plan, "proc").action, None);
        assert_eq!(get(&plan, "fsck-root").action, Some(Action::FsckRoot));
        assert_eq!(get(&plan, "swap").action, Some(Action::Swap));
        let s2 = ancestors(&plan, "stage2");
        assert!(s2.contains(&"mount /srv/db".to_string()) && s2.contains(&"clean".to_string()));
        // stage 2 does not wait for the network or the seed
        assert!(!s2.contains(&"networking".to_string()) && !s2.contains(&"seed".to_string()));
    }

    #[test]
    fn only_sources_udev_names_wait_for_coldplug() {
        let mut sys = debian();
        sys.fstab = fstab::parse(
            "/dev/vda / ext4 defaults 0 1\n/dev/disk/by-uuid/42 /data ext4 defaults 0 2\n\
             /dev/vdb /srv ext4 defaults 0 0\ntmpfs /tmp tmpfs defaults 0 0\n",
        );
        sys.present = vec!["/dev/vda".into(), "/dev/vdb".into()];
        // (lvm2 would make every mount wait for its volumes)
        sys.scripts.retain(|s| s.name != "lvm2");
        let plan = build(&sys);
        // the root and /srv by their kernel names: fsck, remount and mount
        // go on beside coldplug
        for n in ["fsck-root", "root", "mount /srv", "mount /tmp"] {
            assert!(
                !ancestors(&plan, n).contains(&"coldplug".to_string()),
                "{n} waits for coldplug"
            );
        }
        // by-uuid exists once udev made the link
        assert!(ancestors(&plan, "mount /data").contains(&"coldplug".to_string()));
        assert!(ancestors(&plan, "fsck /data").contains(&"coldplug".to_string()));
        assert!(!ancestors(&plan, "fsck /srv").contains(&"coldplug".to_string()));
        assert!(ancestors(&plan, "stage2").contains(&"coldplug".to_string()));
        assert!(get(&plan, "stage2").needs.contains(&"early".to_string()));
        sys.fstab.retain(|e| e.file != Path::new("/data"));
        let plan = build(&sys);
        assert!(!ancestors(&plan, "stage2").contains(&"coldplug".to_string()));
    }

    #[test]
    fn header_facilities_and_start_before() {
        let plan = build(&debian());
        let net = ancestors(&plan, "networking");
        for n in ["localfs", "seed", "sysctl", "hwclock.sh"] {
            assert!(
                net.contains(&n.to_string()),
                "{n} not before networking: {net:?}"
            );
        }
        assert!(ancestors(&plan, "mountnfs.sh").contains(&"networking".to_string()));
        // lvm2: X-Start-Before checkfs mountall, so fsck and every mount wait for it
        assert!(get(&plan, "fsck /srv").needs.contains(&"lvm2".to_string()));
        assert!(get(&plan, "fsck /srv/db")
            .needs
            .contains(&"lvm2".to_string()));
        assert!(get(&plan, "mount /srv").needs.contains(&"lvm2".to_string()));
        assert!(ancestors(&plan, "lvm2").contains(&"coldplug".to_string()));
        // hwclock needs nothing: it starts at once
        assert_eq!(ancestors(&plan, "hwclock.sh").len(), 4);
    }

    #[test]
    fn without_supervised_udev_debians_script_runs_and_devices_wait_for_it() {
        let mut sys = debian();
        sys.early.clear();
        let plan = build(&sys);
        assert!(matches!(get(&plan, "udev").action, Some(Action::Script(_))));
        assert_eq!(get(&plan, "devices").needs, ["udev", "proc"]);
        assert!(ancestors(&plan, "lvm2").contains(&"udev".to_string()));
        assert!(!plan
            .iter()
            .any(|s| s.name == "early" || s.name == "coldplug"));
        sys.scripts.retain(|s| s.name != "udev");
        let plan = build(&sys);
        assert_eq!(get(&plan, "devices").needs, ["dev", "proc"]);
    }
}
