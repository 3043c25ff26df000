//! socklog-conf: the service directories (`socklog-unix`, `-inet`,
//! `-klog`, `-ucspi-tcp`, `-notify`) and log directories Debian's
//! socklog-conf creates. [`plan`] lists every file system step in Debian's
//! order, so it is checked without touching disk; [`apply`] carries it out.

use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::PathBuf;

/// The services socklog-conf knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Unix,
    Inet,
    Klog,
    UcspiTcp,
    Notify,
}

impl Service {
    /// Debian's socklog-conf looks at the first letter, and the second
    /// after a `u` (`un`ix, `uc`spi-tcp).
    pub fn from_arg(a: &[u8]) -> Option<Service> {
        match a {
            [b'i', ..] => Some(Service::Inet),
            [b'k', ..] => Some(Service::Klog),
            [b'n', ..] => Some(Service::Notify),
            [b'u', b'n', ..] => Some(Service::Unix),
            [b'u', b'c', ..] => Some(Service::UcspiTcp),
            _ => None,
        }
    }

    /// The service directory's name.
    pub fn dir(self) -> &'static str {
        match self {
            Service::Unix => "socklog-unix",
            Service::Inet => "socklog-inet",
            Service::Klog => "socklog-klog",
            Service::UcspiTcp => "socklog-ucspi-tcp",
            Service::Notify => "socklog-notify",
        }
    }

    /// The log directory (or, for notify, the fifo) when none is given.
    pub fn default_target(self) -> &'static str {
        match self {
            Service::Unix => "/var/log/socklog",
            Service::Inet => "/var/log/socklog-inet",
            Service::Klog => "/var/log/socklog-klog",
            Service::UcspiTcp => "/var/log/socklog-ucspi-tcp",
            Service::Notify => "/var/log/socklog/.notify",
        }
    }
}

/// A parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub service: Service,
    /// The account socklog (or uncat) runs as.
    pub acct: Vec<u8>,
    /// The log account, or for notify the fifo's group.
    pub second: Vec<u8>,
    pub svdir: PathBuf,
    /// The log directory, or for notify the fifo.
    pub target: PathBuf,
}

pub const DEFAULT_SVDIR: &str = "/etc/sv";

/// `service acct logacct|grp [/svdir] [/target]`; the optional paths must
/// be absolute, words past them are ignored. `None` means usage.
pub fn parse(args: &[OsString]) -> Option<Request> {
    let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
    if a.len() < 4 {
        return None;
    }
    let service = Service::from_arg(a[1])?;
    let absolute = |i: usize| match a.get(i) {
        None => Some(None),
        Some(p) if p.first() == Some(&b'/') => Some(Some(PathBuf::from(args[i].clone()))),
        Some(_) => None,
    };
    let svdir = absolute(4)?.unwrap_or_else(|| PathBuf::from(DEFAULT_SVDIR));
    let target = absolute(5)?.unwrap_or_else(|| PathBuf::from(service.default_target()));
    Some(Request {
        service,
        acct: a[2].to_vec(),
        second: a[3].to_vec(),
        svdir,
        target,
    })
}

/// One file system step; paths of files inside the service directory are
/// relative to it (socklog-conf works from there).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Change into the directory, creating it (0750) if it is missing.
    EnterSvdir(PathBuf),
    /// mkdir, then chmod to the second mode.
    Mkdir(PathBuf, u32, u32),
    /// mkdir (0750), then chown to the log account.
    MkdirOwned(PathBuf),
    Symlink {
        target: PathBuf,
        link: PathBuf,
    },
    /// Create/truncate, write, fsync; then chmod if a mode is given.
    Write(PathBuf, Vec<u8>, Option<u32>),
    /// mkfifo 0620 (umask 007), chown to acct and group.
    Fifo(PathBuf),
}

/// The log directories of the unix service and their svlogd configs.
const UNIX_LOGS: [(&str, &str); 12] = [
    ("auth", "s999999\nn5\n-*\n+auth.*\n+authpriv.*\n"),
    ("cron", "s999999\nn5\n-*\n+cron.*\n"),
    ("daemon", "s999999\nn5\n-*\n+daemon.*\n"),
    ("debug", "s999999\nn5\n-*\n+*.debug*\n"),
    ("ftp", "s999999\nn5\n-*\n+ftp.*\n"),
    ("kern", "s999999\nn5\n-*\n+kern.*\n"),
    ("local", "s999999\nn5\n-*\n+local.*\n"),
    ("mail", "s999999\nn5\n-*\n+mail.*\n"),
    ("main", "s999999\nn10\n"),
    ("news", "s999999\nn5\n-*\n+news.*\n"),
    ("syslog", "s999999\nn5\n-*\n+syslog.*\n"),
    ("user", "s999999\nn5\n-*\n+user.*\n"),
];

fn text(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// Every step for `req`, in the order Debian's socklog-conf takes them.
pub fn plan(req: &Request) -> Vec<Step> {
    let d = req.service.dir();
    let p = |rel: &str| PathBuf::from(format!("{d}{rel}"));
    let acct = &req.acct[..];
    let logacct = &req.second[..];
    let mut steps = vec![Step::EnterSvdir(req.svdir.clone())];
    if req.service == Service::Notify {
        steps.push(Step::Mkdir(p(""), 0o750, 0o755));
        steps.push(Step::Fifo(req.target.clone()));
        let pipe = req.target.as_os_str().as_bytes();
        let run = text(&[
            b"#!/bin/sh -e\nMAILTO=root\nPIPE=",
            pipe,
            b"\n\nif [ ! -p \"$PIPE\" ]; then mkfifo -m0620 \"$PIPE\"; chown ",
            acct,
            b":",
            &req.second,
            b" \"$PIPE\"; fi\nexec <> \"$PIPE\"\nexec chpst -u",
            acct,
            b" uncat -s49999 -t180 \\\n  env MAILUSER=log MAILNAME='socklog notify' \\\n    mail -s socklog-notify $MAILTO\n",
        ]);
        steps.push(Step::Write(p("/run"), run, Some(0o750)));
        return steps;
    }
    steps.push(Step::Mkdir(p(""), 0o750, 0o750));
    steps.push(Step::Mkdir(p("/log"), 0o750, 0o755));
    steps.push(Step::MkdirOwned(req.target.clone()));
    steps.push(Step::Symlink {
        target: req.target.clone(),
        link: p("/log/main"),
    });
    let svlogd_t: &[u8] = b" svlogd -t main/main\n";
    let log_run = |tail: &[u8]| text(&[b"#!/bin/sh\nexec chpst -u", logacct, tail]);
    let main_only = |steps: &mut Vec<Step>| {
        steps.push(Step::MkdirOwned(p("/log/main/main")));
        steps.push(Step::Write(
            p("/log/main/main/config"),
            b"s999999\nn10\n".to_vec(),
            None,
        ));
    };
    match req.service {
        Service::Unix => {
            for (name, config) in UNIX_LOGS {
                steps.push(Step::MkdirOwned(p(&format!("/log/main/{name}"))));
                steps.push(Step::Write(
                    p(&format!("/log/main/{name}/config")),
                    config.as_bytes().to_vec(),
                    None,
                ));
            }
            let run = text(&[
                b"#!/bin/sh\nexec 2>&1\nexec chpst -U",
                acct,
                b" socklog unix /dev/log\n",
            ]);
            steps.push(Step::Write(p("/run"), run, Some(0o750)));
            let check = b"#!/bin/sh\nexec 2>/dev/null\nexec socklog-check unix /dev/log\n";
            steps.push(Step::Write(p("/check"), check.to_vec(), Some(0o755)));
            let tail: &[u8] = b" svlogd \\\n  main/main main/auth main/cron main/daemon main/debug main/ftp \\\n  main/kern main/local main/mail main/news main/syslog main/user\n";
            steps.push(Step::Write(p("/log/run"), log_run(tail), Some(0o750)));
        }
        Service::Inet => {
            main_only(&mut steps);
            let run = text(&[
                b"#!/bin/sh\nexec 2>&1\nexec chpst -U",
                acct,
                b" socklog inet 0 514\n",
            ]);
            steps.push(Step::Write(p("/run"), run, Some(0o750)));
            steps.push(Step::Write(p("/log/run"), log_run(svlogd_t), Some(0o750)));
        }
        Service::Klog => {
            main_only(&mut steps);
            let run = text(&[
                b"#!/bin/sh\nexec </proc/kmsg\nexec 2>&1\nexec chpst -u",
                acct,
                b" socklog ucspi\n",
            ]);
            steps.push(Step::Write(p("/run"), run, Some(0o750)));
            steps.push(Step::Write(p("/log/run"), log_run(svlogd_t), Some(0o750)));
        }
        Service::UcspiTcp => {
            main_only(&mut steps);
            let run = text(&[
                b"#!/bin/sh\nPORT=10116\nexec 2>&1\nexec tcpsvd -vllogserver -u",
                acct,
                b" 0 \"$PORT\" socklog ucspi TCPREMOTEIP\n",
            ]);
            steps.push(Step::Write(p("/run"), run, Some(0o750)));
            steps.push(Step::Write(p("/log/run"), log_run(svlogd_t), Some(0o750)));
        }
        Service::Notify => {}
    }
    steps
}

/// Ids the steps need: the log account's (or, for notify, the account's
/// uid and the group's gid).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owner {
    pub uid: u32,
    pub gid: u32,
}

/// Why a step failed: Debian's wording before the error text.
#[derive(Debug)]
pub struct Failure {
    pub what: Vec<u8>,
    pub err: std::io::Error,
}

/// Carries out `steps`; `owner` is used for chown.
pub fn apply(steps: &[Step], svdir: &std::path::Path, owner: Owner) -> Result<(), Failure> {
    use std::fs;
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    let full = |rel: &std::path::Path| -> Vec<u8> {
        if rel.is_absolute() {
            rel.as_os_str().as_bytes().to_vec()
        } else {
            svdir.join(rel).into_os_string().into_vec()
        }
    };
    let fail = |prefix: &str, path: Vec<u8>, err| Failure {
        what: [prefix.as_bytes(), &path].concat(),
        err,
    };
    let chmod = |path: &std::path::Path, mode: u32| {
        fs::set_permissions(path, fs::Permissions::from_mode(mode))
            .map_err(|e| fail("unable to set mode of ", full(path), e))
    };
    let chown = |path: &std::path::Path, o: Owner| {
        std::os::unix::fs::chown(path, Some(o.uid), Some(o.gid))
            .map_err(|e| fail("unable to set owner of ", full(path), e))
    };
    let mkdir = |path: &std::path::Path, mode: u32| {
        fs::DirBuilder::new()
            .mode(mode)
            .create(path)
            .map_err(|e| fail("unable to create ", full(path), e))
    };
    for step in steps {
        match step {
            Step::EnterSvdir(dir) => {
                if std::env::set_current_dir(dir).is_err() {
                    mkdir(dir, 0o700)?;
                    chmod(dir, 0o750)?;
                    std::env::set_current_dir(dir)
                        .map_err(|e| fail("unable to switch to ", full(dir), e))?;
                }
            }
            Step::Mkdir(path, mode, then) => {
                mkdir(path, *mode)?;
                chmod(path, *then)?;
            }
            Step::MkdirOwned(path) => {
                mkdir(path, 0o750)?;
                chown(path, owner)?;
            }
            Step::Symlink { target, link } => std::os::unix::fs::symlink(target, link)
                .map_err(|e| fail("unable to link ", full(link), e))?,
            Step::Write(path, bytes, mode) => {
                write_synced(path, bytes).map_err(|e| fail("unable to create ", full(path), e))?;
                if let Some(m) = mode {
                    chmod(path, *m)?;
                }
            }
            Step::Fifo(path) => {
                let old = runit::sys::set_umask(0o007);
                let made = runit::sys::mkfifo(path, 0o620);
                runit::sys::set_umask(old);
                made.map_err(|e| {
                    let quoted = [&b"\""[..], path.as_os_str().as_bytes(), b"\""].concat();
                    fail("unable to create ", quoted, e)
                })?;
                chown(path, owner)?;
            }
        }
    }
    Ok(())
}

fn write_synced(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut f = std::fs::File::create(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(args: &[&str]) -> Option<Request> {
        let v: Vec<OsString> = std::iter::once("socklog-conf")
            .chain(args.iter().copied())
            .map(OsString::from)
            .collect();
        parse(&v)
    }

    #[test]
    fn command_lines() {
        let r = req(&["unix", "nobody", "log"]).unwrap();
        assert_eq!(r.service, Service::Unix);
        assert_eq!(r.svdir, PathBuf::from("/etc/sv"));
        assert_eq!(r.target, PathBuf::from("/var/log/socklog"));
        let r = req(&["notify", "a", "g", "/s", "/p", "ignored"]).unwrap();
        assert_eq!(
            (r.svdir.clone(), r.target.clone()),
            ("/s".into(), "/p".into())
        );
        assert_eq!(req(&["kx", "a", "b"]).unwrap().service, Service::Klog);
        assert_eq!(req(&["uc", "a", "b"]).unwrap().service, Service::UcspiTcp);
        assert_eq!(req(&["u", "a", "b"]), None);
        assert_eq!(req(&["unix", "a"]), None);
        assert_eq!(req(&["unix", "a", "b", "rel"]), None);
        assert_eq!(req(&["unix", "a", "b", "/s", "rel"]), None);
    }

    #[test]
    fn unix_plan_in_debian_order() {
        let steps = plan(&req(&["unix", "nobody", "log", "/s", "/l"]).unwrap());
        assert_eq!(steps[0], Step::EnterSvdir("/s".into()));
        assert_eq!(steps[1], Step::Mkdir("socklog-unix".into(), 0o750, 0o750));
        assert_eq!(
            steps[2],
            Step::Mkdir("socklog-unix/log".into(), 0o750, 0o755)
        );
        assert_eq!(steps[3], Step::MkdirOwned("/l".into()));
        assert_eq!(steps.len(), 5 + 24 + 3);
        let Step::Write(path, run, Some(0o750)) = &steps[29] else {
            panic!("{:?}", steps[29])
        };
        assert_eq!(path, &PathBuf::from("socklog-unix/run"));
        assert_eq!(
            run,
            b"#!/bin/sh\nexec 2>&1\nexec chpst -Unobody socklog unix /dev/log\n"
        );
    }

    #[test]
    fn notify_plan_names_pipe_and_group() {
        let steps = plan(&req(&["notify", "nobody", "adm", "/s", "/p/.n"]).unwrap());
        assert_eq!(steps[2], Step::Fifo("/p/.n".into()));
        let Step::Write(_, run, _) = &steps[3] else {
            panic!()
        };
        let run = String::from_utf8_lossy(run);
        assert!(run.contains("PIPE=/p/.n\n"));
        assert!(run.contains("chown nobody:adm \"$PIPE\""));
        assert!(run.contains("exec chpst -unobody uncat -s49999 -t180 \\\n"));
    }
}
