//! tryto and uncat against Debian's: the same command lines and inputs
//! give the same messages, output and exit codes.

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use testkit::TempDir;

/// Runs `bin` as `name` with a shell-built stdin and extra descriptors;
/// returns (stdout+stderr as one text, exit code, fd 5 contents).
fn run(
    bin: &Path,
    name: &str,
    args: &[&str],
    stdin: Option<&Path>,
    dir: &TempDir,
    fd4: bool,
) -> (String, Option<i32>, String) {
    let out = dir.join("out");
    let five = dir.join("five");
    let _ = std::fs::remove_file(&five);
    let mut cmd = Command::new("/bin/sh");
    // fds 4 and 5 are svlogd's processor state files.
    let mut script = String::from("exec \"$0\" \"$@\"");
    if fd4 {
        script = format!(
            "exec 4<'{}' 5>'{}'; {script}",
            dir.join("state").display(),
            five.display()
        );
    }
    cmd.arg("-c").arg(script).arg(bin).args(args).arg0(name);
    cmd.stdin(match stdin {
        Some(p) => Stdio::from(File::open(p).unwrap()),
        None => Stdio::null(),
    });
    let f = File::create(&out).unwrap();
    cmd.stdout(f.try_clone().unwrap()).stderr(f);
    let st = cmd.status().unwrap();
    let text = std::fs::read_to_string(&out).unwrap();
    let five = std::fs::read_to_string(&five).unwrap_or_default();
    (text, st.code(), five)
}

/// `sh -c 'exec "$0" "$@"' BIN args`: argv[0] becomes BIN's path, so
/// usage lines name it; both runs replace it with NAME.
fn same(tool: &str, args: &[&str], stdin: Option<&[u8]>, fd4: bool) {
    let dir = TempDir::new("socklog-tools");
    std::fs::write(dir.join("state"), "state-data\n").unwrap();
    let input = stdin.map(|b| {
        let p = dir.join("in");
        std::fs::write(&p, b).unwrap();
        p
    });
    let deb = testkit::debian(&format!("usr/bin/{tool}"));
    let our = testkit::bin(tool);
    let d = run(&deb, tool, args, input.as_deref(), &dir, fd4);
    let o = run(&our, tool, args, input.as_deref(), &dir, fd4);
    let norm = |s: String| {
        s.replace(deb.to_str().unwrap(), tool)
            .replace(our.to_str().unwrap(), tool)
    };
    assert_eq!(norm(d.0), norm(o.0), "{tool} {args:?}: output");
    assert_eq!(d.1, o.1, "{tool} {args:?}: exit code");
    assert_eq!(d.2, o.2, "{tool} {args:?}: fd 5");
}

#[test]
fn tryto_usage_and_options() {
    for args in [&["-x"][..], &[], &["-V", "true"], &["-t"]] {
        same("tryto", args, None, false);
    }
}

#[test]
fn tryto_feeds_input_and_succeeds() {
    same("tryto", &["cat"], Some(b"abc\ndef\n"), false);
}

#[test]
fn tryto_retries_rewinding_input_then_gives_up() {
    same(
        "tryto",
        &["-v", "-n", "2", "sh", "-c", "cat; echo run >&2; exit 3"],
        Some(b"abc\ndef\n"),
        false,
    );
    same("tryto", &["-n", "0", "false"], None, false);
    same(
        "tryto",
        &["-n", "1", "no-such-program-anywhere"],
        None,
        false,
    );
}

#[test]
fn tryto_times_out_with_term_then_kill() {
    same("tryto", &["-t", "1", "-k", "1", "sleep", "3"], None, false);
    same(
        "tryto",
        &["-t", "1", "-k", "1", "sh", "-c", "trap '' TERM; sleep 3"],
        None,
        false,
    );
}

#[test]
fn tryto_as_svlogd_processor() {
    same(
        "tryto",
        &["-p", "sh", "-c", "cat; echo err >&2"],
        Some(b"abc\ndef\n"),
        true,
    );
    same(
        "tryto",
        &["-p", "-n", "1", "sh", "-c", "cat >/dev/null; exit 5"],
        Some(b"abc\ndef\n"),
        true,
    );
    same(
        "tryto",
        &[
            "-p",
            "-t",
            "1",
            "-k",
            "1",
            "sh",
            "-c",
            "cat >/dev/null; sleep 3",
        ],
        Some(b"abc\ndef\n"),
        true,
    );
}

#[test]
fn uncat_usage_and_options() {
    for args in [&["-x"][..], &[], &["-V", "true"], &["-t"]] {
        same("uncat", args, None, false);
    }
}

#[test]
fn uncat_pieces_by_size_and_end_of_input() {
    same(
        "uncat",
        &["-o", "-v", "sh", "-c", "echo got:; cat"],
        Some(b"abc\ndef\n"),
        false,
    );
    same(
        "uncat",
        &["-o", "-v", "-s", "4", "sh", "-c", "echo \"[$(cat)]\""],
        Some(b"abcdefghij"),
        false,
    );
    same("uncat", &["-o", "-v", "cat"], Some(b""), false);
}

#[test]
fn uncat_child_failures() {
    same(
        "uncat",
        &["-o", "-v", "sh", "-c", "cat >/dev/null; exit 2"],
        Some(b"abc"),
        false,
    );
    same(
        "uncat",
        &["-o", "sh", "-c", "cat >/dev/null; kill -9 $$"],
        Some(b"abc"),
        false,
    );
}
