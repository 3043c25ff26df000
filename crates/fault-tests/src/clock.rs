//! The clock-step case, shared by the program that runs it inside a
//! throw-away VM (`clock-guest`, the VM's /init) and the test that boots
//! the VM and reads its console (tests/clock.rs): the plan, and the
//! console lines the guest reports a log directory in.
//!
//! The wall clock of the machine is never touched: a time namespace moves
//! only the monotonic and boot clocks, so the step is made for real in a
//! VM of its own.

/// One stretch of the stream: `lines` numbered lines, fed after the wall
/// clock was stepped by `step` seconds (0: not stepped).
pub struct Phase {
    pub name: &'static str,
    pub step: i64,
    pub lines: usize,
}

const DAY: i64 = 86_400;

/// Before any step; after a step back of a day; after a step forward of
/// two days (a day ahead of where the stream started). The log directory
/// is reported at the end of each phase.
pub const PHASES: [Phase; 3] = [
    Phase {
        name: "before",
        step: 0,
        lines: 200,
    },
    Phase {
        name: "back",
        step: -DAY,
        lines: 100,
    },
    Phase {
        name: "forward",
        step: 2 * DAY,
        lines: 60,
    },
];

/// Bytes per numbered line (with its newline), before svlogd's stamp.
pub const WIDTH: usize = 50;

/// Both loggers' `config`: rotation after about 1 KB (a line ending in
/// the last 1,000 bytes before 2,000), four rotated files kept.
pub const CONFIG: &str = "s2000\nn4\n";

/// svlogd's options: `-tt`, a UTC stamp before each line.
pub const OPTIONS: &[&str] = &["-tt"];

/// Every console line of the report starts with this.
pub const MARK: &str = "clock-guest: ";

/// The numbers of the numbered lines of `text` in order, each line's
/// svlogd stamp (up to its first space) skipped; 0 for a line that is not
/// a whole numbered line.
pub fn numbers(text: &str) -> Vec<usize> {
    text.lines()
        .map(|l| {
            let body = l.split_once(' ').map_or("", |(_, b)| b);
            body.get(..7)
                .and_then(|d| d.parse::<usize>().ok())
                .filter(|&n| n > 0 && body.len() + 1 == WIDTH)
                .unwrap_or(0)
        })
        .collect()
}

/// Numbers as runs: `1-14 15 17-20`; 0 (not a numbered line) as `?`;
/// `-` for none.
pub fn runs(nums: &[usize]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < nums.len() {
        let a = nums[i];
        let mut j = i;
        while a != 0 && j + 1 < nums.len() && nums[j + 1] == nums[j] + 1 {
            j += 1;
        }
        out.push(match (a, nums[j]) {
            (0, _) => "?".into(),
            (a, b) if a == b => a.to_string(),
            (a, b) => format!("{a}-{b}"),
        });
        i = j + 1;
    }
    if out.is_empty() {
        "-".into()
    } else {
        out.join(" ")
    }
}

/// The inverse of [`runs`].
pub fn parse_runs(s: &str) -> Vec<usize> {
    let mut v = Vec::new();
    for r in s.split_whitespace() {
        match r.split_once('-') {
            _ if r == "-" => {}
            Some((a, b)) => {
                if let (Ok(a), Ok(b)) = (a.parse::<usize>(), b.parse::<usize>()) {
                    v.extend(a..=b);
                }
            }
            None => v.push(r.parse().unwrap_or(0)),
        }
    }
    v
}

/// One file of a reported log directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    pub name: String,
    pub numbers: Vec<usize>,
}

/// The guest's console line for one file of one logger at the end of a
/// phase.
pub fn report(phase: &str, logger: &str, file: &File) -> String {
    format!(
        "{MARK}{phase} {logger} {} {}",
        file.name,
        runs(&file.numbers)
    )
}

/// The files reported for `phase` and `logger`, in the order reported.
pub fn reported(console: &str, phase: &str, logger: &str) -> Vec<File> {
    console
        .lines()
        .filter_map(|l| l.trim_end_matches('\r').strip_prefix(MARK))
        .filter_map(|l| {
            let mut w = l.splitn(4, ' ');
            let (p, g, name, rest) = (w.next()?, w.next()?, w.next()?, w.next()?);
            (p == phase && g == logger).then(|| File {
                name: name.to_string(),
                numbers: parse_runs(rest),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_round_trip() {
        let n = vec![1, 2, 3, 5, 0, 7, 8, 8, 9];
        assert_eq!(runs(&n), "1-3 5 ? 7-8 8-9");
        assert_eq!(parse_runs(&runs(&n)), n);
        assert_eq!(runs(&[]), "-");
        assert!(parse_runs("-").is_empty());
    }

    #[test]
    fn numbers_after_the_stamp() {
        let line = format!("2026-12-07_10:30:00.12345 {}", crate::numbered(3, WIDTH));
        let text: String = line.lines().take(1).map(|l| format!("{l}\n")).collect();
        assert_eq!(numbers(&text), vec![1]);
        assert_eq!(numbers("stamp 0000002 short\nnostamp\n"), vec![0, 0]);
    }

    #[test]
    fn console_lines() {
        let f = File {
            name: "@400000000000000000000001.s".into(),
            numbers: vec![1, 2, 3],
        };
        let console = format!(
            "[    1.0] kernel\r\n{}\r\n{MARK}back ours current -\r\n",
            report("back", "ours", &f)
        );
        assert_eq!(
            reported(&console, "back", "ours"),
            vec![
                f,
                File {
                    name: "current".into(),
                    numbers: vec![]
                }
            ]
        );
        assert!(reported(&console, "back", "runit").is_empty());
    }
}
