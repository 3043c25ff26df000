//! The entries of a unit (main file, then drop-ins) folded into a typed
//! unit: later assignments win, an empty assignment resets a list, and
//! every directive this program does not honour is kept in `unhandled`.

use crate::unit::{self, Entry, Exec, UnitName};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Type {
    #[default]
    Simple,
    Exec,
    Forking,
    Oneshot,
    Dbus,
    Notify,
    NotifyReload,
    Idle,
}

/// RuntimeDirectory= and its kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DirKind {
    Runtime,
    State,
    Cache,
    Logs,
    Configuration,
}

impl DirKind {
    pub fn base(self) -> &'static str {
        match self {
            DirKind::Runtime => "/run",
            DirKind::State => "/var/lib",
            DirKind::Cache => "/var/cache",
            DirKind::Logs => "/var/log",
            DirKind::Configuration => "/etc",
        }
    }
    pub fn env(self) -> &'static str {
        match self {
            DirKind::Runtime => "RUNTIME_DIRECTORY",
            DirKind::State => "STATE_DIRECTORY",
            DirKind::Cache => "CACHE_DIRECTORY",
            DirKind::Logs => "LOGS_DIRECTORY",
            DirKind::Configuration => "CONFIGURATION_DIRECTORY",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dirs {
    pub kind: DirKind,
    pub names: Vec<String>,
    pub mode: Option<String>,
}

/// One `Listen*=` of the service's `.socket` unit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Socket {
    pub listen: String,
    pub mode: Option<String>,
    pub user: Option<String>,
    pub group: Option<String>,
}

/// A `d`/`D` line of the package's tmpfiles.d file: a directory systemd
/// makes at boot that the daemon counts on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TmpDir {
    pub path: String,
    pub mode: Option<String>,
    pub user: Option<String>,
    pub group: Option<String>,
}

/// The `d` and `D` lines of a tmpfiles.d(5) file; other lines are
/// returned as they stand, for a comment.
pub fn parse_tmpfiles(text: &str) -> (Vec<TmpDir>, Vec<String>) {
    let mut dirs = Vec::new();
    let mut other = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let f: Vec<&str> = line.split_whitespace().collect();
        let field = |i: usize| f.get(i).filter(|v| **v != "-").map(|v| v.to_string());
        match f.first().map(|t| t.trim_end_matches('!')) {
            Some("d" | "D") if f.len() >= 2 && f[1].starts_with('/') && !f[1].contains('%') => dirs
                .push(TmpDir {
                    path: f[1].to_string(),
                    mode: field(2),
                    user: field(3),
                    group: field(4),
                }),
            _ => other.push(line.to_string()),
        }
    }
    (dirs, other)
}

#[derive(Clone, Debug, Default)]
pub struct Unit {
    pub name: Option<UnitName>,
    pub description: Option<String>,
    pub requires: Vec<String>,
    pub wants: Vec<String>,
    pub after: Vec<String>,
    /// (directive, value) of Condition*/Assert* lines.
    pub conditions: Vec<(String, String)>,
    pub kind: Type,
    pub exec_start_pre: Vec<Exec>,
    pub exec_start: Vec<Exec>,
    pub exec_start_post: Vec<Exec>,
    pub exec_reload: Vec<Exec>,
    pub exec_stop: Vec<Exec>,
    pub exec_stop_post: Vec<Exec>,
    pub pid_file: Option<String>,
    pub bus_name: Option<String>,
    pub restart: Option<String>,
    pub restart_sec_ms: Option<u64>,
    pub remain_after_exit: bool,
    pub success_exit_status: Vec<String>,
    pub restart_prevent_exit_status: Vec<String>,
    pub user: Option<String>,
    pub group: Option<String>,
    pub supplementary_groups: Vec<String>,
    pub dynamic_user: bool,
    pub environment: Vec<(String, String)>,
    /// (path, optional) in order.
    pub environment_files: Vec<(String, bool)>,
    pub unset_environment: Vec<String>,
    pub working_directory: Option<String>,
    pub umask: Option<String>,
    pub nice: Option<String>,
    /// (Limit name without "Limit", value).
    pub limits: Vec<(String, String)>,
    /// chpst `-S` knobs, one per directive.
    pub sandbox: Vec<String>,
    pub dirs: Vec<Dirs>,
    pub runtime_directory_preserve: bool,
    pub kill_signal: Option<String>,
    pub kill_mode: Option<String>,
    pub timeout_stop_ms: Option<Option<u64>>,
    pub timeout_start_ms: Option<Option<u64>>,
    pub send_sigkill: bool,
    pub wanted_by: Vec<String>,
    pub default_instance: Option<String>,
    pub has_install: bool,
    /// The `.socket` unit's sockets (socket activation) and its name.
    pub sockets: Vec<Socket>,
    pub socket_unit: Option<String>,
    /// The `.socket` unit is enabled (WantedBy=sockets.target …).
    pub socket_enabled: bool,
    /// NotifyAccess=all: readiness from any process of the service.
    pub notify_all: bool,
    pub tmpfiles: Vec<TmpDir>,
    /// Directives kept as comments: (section, key, value, why).
    pub unhandled: Vec<(String, String, String, String)>,
    /// Problems worth a warning that are not a directive of their own.
    pub notes: Vec<String>,
}

/// The sandbox directives that map one to one onto chpst's `-S` knobs
/// (docs/chpst.md's table): directive, knob, how the value is passed.
enum Knob {
    /// A boolean: the knob alone when yes, nothing when no.
    Flag(&'static str),
    /// The value passed as `knob=value`.
    Value(&'static str),
}

fn sandbox_knob(key: &str) -> Option<Knob> {
    Some(match key {
        "NoNewPrivileges" => Knob::Flag("no-new-privs"),
        "CapabilityBoundingSet" => Knob::Value("caps"),
        "AmbientCapabilities" => Knob::Value("ambient-caps"),
        "PrivateTmp" => Knob::Flag("private-tmp"),
        "ProtectSystem" => Knob::Value("protect-system"),
        "ReadWritePaths" | "ReadWriteDirectories" => Knob::Value("read-write"),
        "ReadOnlyPaths" | "ReadOnlyDirectories" => Knob::Value("read-only"),
        "InaccessiblePaths" | "InaccessibleDirectories" => Knob::Value("inaccessible"),
        "ProtectHome" => Knob::Value("protect-home"),
        "PrivateDevices" => Knob::Flag("private-devices"),
        "ProtectKernelTunables" => Knob::Flag("protect-kernel-tunables"),
        "ProtectKernelModules" => Knob::Flag("protect-kernel-modules"),
        "ProtectKernelLogs" => Knob::Flag("protect-kernel-logs"),
        "ProtectControlGroups" => Knob::Flag("protect-control-groups"),
        "PrivateNetwork" => Knob::Flag("private-network"),
        "ProtectHostname" => Knob::Flag("protect-hostname"),
        "SystemCallFilter" => Knob::Value("syscall-filter"),
        "SystemCallErrorNumber" => Knob::Value("syscall-errno"),
        "SystemCallArchitectures" => Knob::Value("syscall-architectures"),
        "MemoryDenyWriteExecute" => Knob::Flag("memory-deny-write-execute"),
        "RestrictRealtime" => Knob::Flag("restrict-realtime"),
        "LockPersonality" => Knob::Flag("lock-personality"),
        "RestrictNamespaces" => Knob::Value("restrict-namespaces"),
        "RestrictAddressFamilies" => Knob::Value("restrict-address-families"),
        _ => return None,
    })
}

/// Directives read and honoured elsewhere, or that have no meaning for a
/// service directory (documentation), so need no comment.
const SILENT: &[&str] = &["Documentation", "DefaultDependencies"];

impl Unit {
    pub fn from_entries(entries: &[Entry], name: &UnitName) -> Unit {
        let mut u = Unit {
            name: Some(name.clone()),
            send_sigkill: true,
            ..Unit::default()
        };
        let mut unknown_spec = Vec::new();
        for e in entries {
            let v = unit::expand_specifiers(&e.value, name, &mut unknown_spec);
            if e.section == "Install" {
                u.has_install = true;
            }
            let done = u.take(&e.section, &e.key, &v);
            if let Err(why) = done {
                u.unhandled
                    .push((e.section.clone(), e.key.clone(), e.value.clone(), why));
            }
        }
        // systemd gives Type=dbus an implicit Requires= and After= on the
        // bus's socket, that is (here) on the dbus service.
        if u.kind == Type::Dbus {
            u.requires.push("dbus.socket".into());
        }
        unknown_spec.dedup();
        for c in unknown_spec {
            u.notes.push(format!(
                "specifier %{c} is not known when converting; kept as it stands"
            ));
        }
        u
    }

    fn take(&mut self, section: &str, key: &str, v: &str) -> Result<(), String> {
        let list = |target: &mut Vec<String>| -> Result<(), String> {
            if v.is_empty() {
                target.clear();
            } else {
                target.extend(unit::split_list(v)?);
            }
            Ok(())
        };
        let exec = |target: &mut Vec<Exec>| -> Result<(), String> {
            if v.is_empty() {
                target.clear();
                return Ok(());
            }
            target.push(unit::parse_exec(v)?);
            Ok(())
        };
        let boolean = |v: &str| unit::parse_bool(v).ok_or_else(|| format!("not a boolean: {v}"));
        match (section, key) {
            ("Unit", "Description") => self.description = Some(v.to_string()),
            ("Unit", "Requires" | "BindsTo" | "Requisite") => list(&mut self.requires)?,
            ("Unit", "Wants") => list(&mut self.wants)?,
            ("Unit", "After") => list(&mut self.after)?,
            ("Unit", k) if k.starts_with("Condition") || k.starts_with("Assert") => {
                if v.is_empty() {
                    self.conditions.clear();
                } else {
                    self.conditions.push((k.to_string(), v.to_string()));
                }
            }
            ("Service", "Type") => {
                self.kind = match v {
                    "simple" | "" => Type::Simple,
                    "exec" => Type::Exec,
                    "forking" => Type::Forking,
                    "oneshot" => Type::Oneshot,
                    "dbus" => Type::Dbus,
                    "notify" => Type::Notify,
                    "notify-reload" => Type::NotifyReload,
                    "idle" => Type::Idle,
                    other => return Err(format!("unknown Type={other}; taken as simple")),
                }
            }
            ("Service", "ExecStartPre") => exec(&mut self.exec_start_pre)?,
            ("Service", "ExecStart") => exec(&mut self.exec_start)?,
            ("Service", "ExecStartPost") => exec(&mut self.exec_start_post)?,
            ("Service", "ExecReload") => exec(&mut self.exec_reload)?,
            ("Service", "ExecStop") => exec(&mut self.exec_stop)?,
            ("Service", "ExecStopPost") => exec(&mut self.exec_stop_post)?,
            ("Service", "PIDFile") => self.pid_file = Some(v.to_string()),
            ("Service", "BusName") => self.bus_name = Some(v.to_string()),
            ("Service", "Restart") => self.restart = Some(v.to_string()),
            ("Service", "RestartSec") => {
                self.restart_sec_ms = unit::parse_timespan_ms(v).ok_or("not a time span")?
            }
            ("Service", "RemainAfterExit") => self.remain_after_exit = boolean(v)?,
            ("Service", "SuccessExitStatus") => list(&mut self.success_exit_status)?,
            ("Service", "RestartPreventExitStatus") => list(&mut self.restart_prevent_exit_status)?,
            ("Service", "User") => self.user = Some(v.to_string()).filter(|s| !s.is_empty()),
            ("Service", "Group") => self.group = Some(v.to_string()).filter(|s| !s.is_empty()),
            ("Service", "SupplementaryGroups") => list(&mut self.supplementary_groups)?,
            ("Service", "DynamicUser") => self.dynamic_user = boolean(v)?,
            ("Service", "Environment") => {
                if v.is_empty() {
                    self.environment.clear();
                }
                for w in unit::split_list(v)? {
                    match w.split_once('=') {
                        Some((k, val)) => self.environment.push((k.to_string(), val.to_string())),
                        None => return Err(format!("not NAME=VALUE: {w}")),
                    }
                }
            }
            ("Service", "EnvironmentFile") => {
                if v.is_empty() {
                    self.environment_files.clear();
                } else if let Some(p) = v.strip_prefix('-') {
                    self.environment_files.push((p.to_string(), true));
                } else {
                    self.environment_files.push((v.to_string(), false));
                }
            }
            ("Service", "UnsetEnvironment") => list(&mut self.unset_environment)?,
            ("Service", "WorkingDirectory") => self.working_directory = Some(v.to_string()),
            ("Service", "UMask") => self.umask = Some(v.to_string()),
            ("Service", "Nice") => self.nice = Some(v.to_string()),
            ("Service", k) if k.starts_with("Limit") => self
                .limits
                .push((k["Limit".len()..].to_string(), v.to_string())),
            ("Service", "RuntimeDirectory") => self.dir(DirKind::Runtime, v)?,
            ("Service", "StateDirectory") => self.dir(DirKind::State, v)?,
            ("Service", "CacheDirectory") => self.dir(DirKind::Cache, v)?,
            ("Service", "LogsDirectory") => self.dir(DirKind::Logs, v)?,
            ("Service", "ConfigurationDirectory") => self.dir(DirKind::Configuration, v)?,
            ("Service", k) if k.ends_with("DirectoryMode") => {
                let kind = match k {
                    "RuntimeDirectoryMode" => DirKind::Runtime,
                    "StateDirectoryMode" => DirKind::State,
                    "CacheDirectoryMode" => DirKind::Cache,
                    "LogsDirectoryMode" => DirKind::Logs,
                    "ConfigurationDirectoryMode" => DirKind::Configuration,
                    _ => return Err("unknown directive".into()),
                };
                self.dir_entry(kind).mode = Some(v.to_string());
            }
            ("Service", "RuntimeDirectoryPreserve") => {
                self.runtime_directory_preserve = v != "no" && unit::parse_bool(v) != Some(false)
            }
            // runsv leaves SIGPIPE at its default, as IgnoreSIGPIPE=no asks.
            ("Service", "IgnoreSIGPIPE") if unit::parse_bool(v) == Some(false) => {}
            ("Service", "NotifyAccess") => match v {
                "main" | "" => self.notify_all = false,
                "all" | "exec" => self.notify_all = true,
                other => return Err(format!("NotifyAccess={other}: taken as main")),
            },
            ("Service", "KillSignal") => self.kill_signal = Some(v.to_string()),
            ("Service", "KillMode") => self.kill_mode = Some(v.to_string()),
            ("Service", "TimeoutStopSec") => {
                self.timeout_stop_ms = Some(unit::parse_timespan_ms(v).ok_or("not a time span")?)
            }
            ("Service", "TimeoutStartSec") => {
                self.timeout_start_ms = Some(unit::parse_timespan_ms(v).ok_or("not a time span")?)
            }
            ("Service", "TimeoutSec") => {
                let t = unit::parse_timespan_ms(v).ok_or("not a time span")?;
                self.timeout_stop_ms = Some(t);
                self.timeout_start_ms = Some(t);
            }
            ("Service", "SendSIGKILL") => self.send_sigkill = boolean(v)?,
            ("Service", "StandardOutput" | "StandardError") if v == "journal" || v == "inherit" => {
            }
            ("Service", "SyslogIdentifier") => {}
            ("Service", k) => match sandbox_knob(k) {
                Some(Knob::Flag(knob)) => {
                    if boolean(v)? {
                        self.sandbox.push(knob.to_string());
                    }
                }
                Some(Knob::Value(knob)) => {
                    let val = if matches!(k, "ProtectSystem" | "ProtectHome" | "RestrictNamespaces")
                    {
                        match unit::parse_bool(v) {
                            Some(true) => String::new(),
                            Some(false) => return Ok(()),
                            None => format!("={v}"),
                        }
                    } else if let Some(rest) = v.strip_prefix('~') {
                        // "~ @a @b" is systemd's "~@a @b".
                        format!("=~{}", rest.trim_start())
                    } else {
                        format!("={v}")
                    };
                    self.sandbox.push(format!("{knob}{val}"));
                }
                None => return Err(unhandled_reason(k)),
            },
            ("Install", "WantedBy" | "RequiredBy") => list(&mut self.wanted_by)?,
            ("Install", "DefaultInstance") => self.default_instance = Some(v.to_string()),
            ("Install", "Alias" | "Also") => {}
            (_, k) if SILENT.contains(&k) => {}
            _ => return Err(unhandled_reason(key)),
        }
        Ok(())
    }

    /// Takes the listening sockets of the service's `.socket` unit.
    pub fn add_socket_unit(&mut self, name: &str, entries: &[Entry]) {
        let mut mode = None;
        let mut user = None;
        let mut group = None;
        let mut listens = Vec::new();
        let mut v6only = false;
        self.socket_enabled = entries
            .iter()
            .any(|e| e.section == "Install" && e.key == "WantedBy");
        for e in entries.iter().filter(|e| e.section == "Socket") {
            match e.key.as_str() {
                "ListenStream" => listens.push(e.value.clone()),
                "SocketMode" => mode = Some(e.value.clone()),
                "SocketUser" => user = Some(e.value.clone()),
                "SocketGroup" => group = Some(e.value.clone()),
                "BindIPv6Only" => v6only = e.value == "ipv6-only",
                "Accept" if unit::parse_bool(&e.value) == Some(true) => {
                    self.notes.push(format!(
                        "{name}: Accept=yes (a service per connection) is not supported"
                    ));
                    return;
                }
                _ => self.unhandled.push((
                    "Socket".into(),
                    e.key.clone(),
                    e.value.clone(),
                    format!("in {name}; not known to unit2sv"),
                )),
            }
        }
        for mut l in listens {
            if v6only && l.starts_with('[') {
                l.push_str("/v6only");
            }
            self.sockets.push(Socket {
                listen: l,
                mode: mode.clone(),
                user: user.clone(),
                group: group.clone(),
            });
        }
        self.socket_unit = Some(name.to_string());
    }

    fn dir_entry(&mut self, kind: DirKind) -> &mut Dirs {
        if let Some(i) = self.dirs.iter().position(|d| d.kind == kind) {
            return &mut self.dirs[i];
        }
        self.dirs.push(Dirs {
            kind,
            names: Vec::new(),
            mode: None,
        });
        self.dirs.last_mut().unwrap()
    }

    fn dir(&mut self, kind: DirKind, v: &str) -> Result<(), String> {
        let names = unit::split_list(v)?;
        let d = self.dir_entry(kind);
        if v.is_empty() {
            d.names.clear();
        } else {
            // "name:symlink" forms: the link part is not made (rare).
            d.names.extend(
                names
                    .into_iter()
                    .map(|n| n.split(':').next().unwrap_or("").to_string()),
            );
        }
        Ok(())
    }

    /// The service directory's name: the unit's name without `.service`.
    pub fn service_name(&self) -> String {
        self.name.as_ref().map(|n| n.stem()).unwrap_or_default()
    }
}

fn unhandled_reason(key: &str) -> String {
    match key {
        "WatchdogSec" => "runsv has no watchdog".into(),
        "OOMScoreAdjust" | "CPUSchedulingPolicy" | "IOSchedulingClass" | "IOSchedulingPriority" => {
            "no chpst option for it".into()
        }
        k if k.starts_with("Memory")
            || k.starts_with("CPU")
            || k.starts_with("Tasks")
            || k.starts_with("IO") =>
        {
            "resource control of systemd's cgroups; not done by runsv".into()
        }
        "Before"
        | "Conflicts"
        | "PartOf"
        | "OnFailure"
        | "PropagatesReloadTo"
        | "ReloadPropagatedFrom" => "no counterpart in runit's dependency idiom".into(),
        _ => "not known to unit2sv".into(),
    }
}
