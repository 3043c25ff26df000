//! The small configuration files stage 1 reads: sysctl.d, modules-load.d
//! and /etc/modules, /etc/default/rcS.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The directories of sysctl.d(5) and modules-load.d(5), first wins: a
/// file in /etc hides one of the same name below.
pub fn conf_dirs(kind: &str) -> Vec<PathBuf> {
    ["/etc", "/run", "/usr/local/lib", "/usr/lib", "/lib"]
        .iter()
        .map(|d| Path::new(d).join(kind))
        .collect()
}

/// The `*.conf` files to read, by name, from `listing` (directory, file
/// names), each name taken from the first directory that has it.
pub fn conf_files(listing: &[(PathBuf, Vec<String>)]) -> Vec<PathBuf> {
    let mut by_name: BTreeMap<&str, PathBuf> = BTreeMap::new();
    for (dir, names) in listing {
        for n in names {
            if n.ends_with(".conf") && !by_name.contains_key(n.as_str()) {
                by_name.insert(n, dir.join(n));
            }
        }
    }
    by_name.into_values().collect()
}

/// One sysctl setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sysctl {
    pub key: String,
    pub value: String,
    /// `-key = value`: a failure is not reported
    pub quiet: bool,
}

pub fn parse_sysctl(text: &str) -> Vec<Sysctl> {
    text.lines()
        .filter_map(|line| {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
                return None;
            }
            let (k, v) = line.split_once('=')?;
            let (quiet, k) = match k.trim().strip_prefix('-') {
                Some(k) => (true, k),
                None => (false, k.trim()),
            };
            Some(Sysctl {
                key: k.trim().to_string(),
                value: v.trim().to_string(),
                quiet,
            })
        })
        .collect()
}

/// /proc/sys path of a key: `net.ipv4.ip_forward` or `net/ipv4/ip_forward`.
/// In the dotted form a slash stands for a dot inside a name (as
/// `net.ipv4.conf.eth0/1.rp_filter`). `None` for what cannot be a key.
pub fn sysctl_path(key: &str) -> Option<PathBuf> {
    if key.is_empty() || key.contains("..") || key.contains('*') {
        return None;
    }
    let rel: String = if key.contains('.') {
        key.chars()
            .map(|c| match c {
                '.' => '/',
                '/' => '.',
                c => c,
            })
            .collect()
    } else {
        key.to_string()
    };
    if rel
        .split('/')
        .any(|c| c.is_empty() || c == "." || c == "..")
    {
        return None;
    }
    Some(Path::new("/proc/sys").join(rel))
}

/// Modules to load, each with its arguments: /etc/modules and
/// modules-load.d lines, comments (`#`, `;`) left out.
pub fn parse_modules(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with(';'))
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .collect()
}

/// A variable of a shell assignment file (/etc/default/rcS,
/// /etc/default/runit): the last plain `NAME=value` wins.
pub fn shell_var(text: &str, name: &str) -> Option<String> {
    let mut found = None;
    for line in text.lines() {
        let line = line.trim();
        let line = line.strip_prefix("export ").unwrap_or(line);
        if let Some(v) = line.strip_prefix(name).and_then(|r| r.strip_prefix('=')) {
            let v = v.split('#').next().unwrap_or("").trim();
            found = Some(v.trim_matches(|c| c == '"' || c == '\'').to_string());
        }
    }
    found
}

/// A device node or directory of `kmod static-nodes --format=tmpfiles`:
/// what modules loaded on first use need in /dev before they are loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StaticNode {
    Dir(String),
    Node {
        path: String,
        mode: u32,
        block: bool,
        major: u32,
        minor: u32,
    },
}

pub fn parse_static_nodes(text: &str) -> Vec<StaticNode> {
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let path = f.get(1)?.to_string();
            if !path.starts_with("/dev/") || path.contains("/../") {
                return None;
            }
            match f[0].trim_end_matches('!') {
                "d" => Some(StaticNode::Dir(path)),
                t @ ("c" | "b") => {
                    let (ma, mi) = f.get(6)?.split_once(':')?;
                    Some(StaticNode::Node {
                        path,
                        mode: u32::from_str_radix(f.get(2)?, 8).ok()?,
                        block: t == "b",
                        major: ma.parse().ok()?,
                        minor: mi.parse().ok()?,
                    })
                }
                _ => None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sysctl_lines_and_paths() {
        let s = parse_sysctl("# c\n; c\nkernel.printk = 3 4 1 3\n-net.x.y=1\n\nbad line\n");
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].key, "kernel.printk");
        assert_eq!(s[0].value, "3 4 1 3");
        assert!(s[1].quiet && s[1].key == "net.x.y");
        assert_eq!(
            sysctl_path("kernel.printk").unwrap(),
            Path::new("/proc/sys/kernel/printk")
        );
        assert_eq!(
            sysctl_path("net/ipv4/ip_forward").unwrap(),
            Path::new("/proc/sys/net/ipv4/ip_forward")
        );
        assert_eq!(
            sysctl_path("net.ipv4.conf.eth0/1.rp_filter").unwrap(),
            Path::new("/proc/sys/net/ipv4/conf/eth0.1/rp_filter")
        );
        assert_eq!(sysctl_path("../../etc/passwd"), None);
        assert_eq!(sysctl_path("a..b"), None);
    }

    #[test]
    fn conf_files_first_directory_wins_sorted_by_name() {
        let l = vec![
            (
                PathBuf::from("/etc/sysctl.d"),
                vec!["99-x.conf".into(), "README".into()],
            ),
            (
                PathBuf::from("/usr/lib/sysctl.d"),
                vec!["99-x.conf".into(), "10-a.conf".into()],
            ),
        ];
        assert_eq!(
            conf_files(&l),
            [
                PathBuf::from("/usr/lib/sysctl.d/10-a.conf"),
                PathBuf::from("/etc/sysctl.d/99-x.conf")
            ]
        );
    }

    #[test]
    fn static_nodes_of_kmod() {
        let t = "c! /dev/fuse 0666 - - - 10:229\nd /dev/vfio 0755 - - -\nc! /dev/vfio/vfio 0666 - - - 10:196\n\
                 b! /dev/loop0 0660 - - - 7:0\nx /dev/odd 0600 - - - 1:1\nc! /etc/passwd 0600 - - - 1:3\n";
        assert_eq!(
            parse_static_nodes(t),
            [
                StaticNode::Node {
                    path: "/dev/fuse".into(),
                    mode: 0o666,
                    block: false,
                    major: 10,
                    minor: 229
                },
                StaticNode::Dir("/dev/vfio".into()),
                StaticNode::Node {
                    path: "/dev/vfio/vfio".into(),
                    mode: 0o666,
                    block: false,
                    major: 10,
                    minor: 196
                },
                StaticNode::Node {
                    path: "/dev/loop0".into(),
                    mode: 0o660,
                    block: true,
                    major: 7,
                    minor: 0
                },
            ]
        );
    }

    #[test]
    fn modules_and_shell_vars() {
        assert_eq!(
            parse_modules("# x\nloop\n  dummy numdummies=2\n;y\n"),
            [vec!["loop"], vec!["dummy", "numdummies=2"]]
        );
        let t = "#TMPTIME=0\nTMPTIME=7\nexport NATIVE_STAGES=\"no\" # comment\n";
        assert_eq!(shell_var(t, "TMPTIME").as_deref(), Some("7"));
        assert_eq!(shell_var(t, "NATIVE_STAGES").as_deref(), Some("no"));
        assert_eq!(shell_var(t, "FSCKFIX"), None);
    }
}
