//! Runs steps as soon as what they need is done, each in a thread of its
//! own, so that independent steps overlap.

use std::collections::HashMap;
use std::sync::{mpsc, Arc};

/// A step of a plan: `action` (none for a milestone) once every step
/// named in `needs` has ended.
#[derive(Debug, Clone)]
pub struct Step<A> {
    pub name: String,
    pub needs: Vec<String>,
    /// a failure stops what needs this step (when that is critical too);
    /// otherwise it is a warning. A critical step does not start after a
    /// need failed, the others do.
    pub critical: bool,
    pub action: Option<A>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// a step that is not critical failed: what needs it goes on
    Warned(String),
    Failed(String),
    /// not run: the named step it needs failed or was not run
    NotRun(String),
}

impl Outcome {
    pub fn stops(&self) -> bool {
        matches!(self, Outcome::Failed(_) | Outcome::NotRun(_))
    }
}

pub enum Event<'a> {
    Started(&'a str),
    Ended(&'a str, &'a Outcome),
    /// the needs of the step form a loop: it starts without them
    Loop(&'a str),
}

/// Runs every step once and returns the outcomes in the plan's order.
/// Needs naming no step of the plan are ignored.
pub fn run<A, F, E>(steps: Vec<Step<A>>, exec: F, mut event: E) -> Vec<Outcome>
where
    A: Send + Sync + 'static,
    F: Fn(&A) -> Result<(), String> + Send + Sync + 'static,
    E: FnMut(Event<'_>),
{
    let n = steps.len();
    let index: HashMap<&str, usize> = steps
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.as_str(), i))
        .collect();
    let mut needs: Vec<Vec<usize>> = steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut v: Vec<usize> = s
                .needs
                .iter()
                .filter_map(|d| index.get(d.as_str()).copied())
                .filter(|&j| j != i)
                .collect();
            v.sort_unstable();
            v.dedup();
            v
        })
        .collect();
    drop(index);
    let steps = Arc::new(steps);
    let exec = Arc::new(exec);
    let mut outcome: Vec<Option<Outcome>> = vec![None; n];
    let mut started = vec![false; n];
    let mut running = 0usize;
    let mut left = n;
    let (tx, rx) = mpsc::channel::<(usize, Result<(), String>)>();
    while left > 0 {
        let mut progressed = true;
        while progressed {
            progressed = false;
            for i in 0..n {
                if started[i] || !needs[i].iter().all(|&j| outcome[j].is_some()) {
                    continue;
                }
                started[i] = true;
                // only a critical step is held back: the others (sysctl,
                // the packages' scripts) still run after the emergency
                // shell, as after Debian's
                let stopped = needs[i]
                    .iter()
                    .filter(|_| steps[i].critical)
                    .find(|&&j| outcome[j].as_ref().is_some_and(Outcome::stops));
                if let Some(&j) = stopped {
                    let o = Outcome::NotRun(steps[j].name.clone());
                    event(Event::Ended(&steps[i].name, &o));
                    outcome[i] = Some(o);
                    left -= 1;
                    progressed = true;
                } else if steps[i].action.is_none() {
                    event(Event::Ended(&steps[i].name, &Outcome::Done));
                    outcome[i] = Some(Outcome::Done);
                    left -= 1;
                    progressed = true;
                } else {
                    event(Event::Started(&steps[i].name));
                    running += 1;
                    let (st, ex, tx2) = (Arc::clone(&steps), Arc::clone(&exec), tx.clone());
                    let spawned = std::thread::Builder::new().spawn(move || {
                        let r = match &st[i].action {
                            Some(a) => ex(a),
                            None => Ok(()),
                        };
                        let _ = tx2.send((i, r));
                    });
                    if let Err(e) = spawned {
                        // no thread to spare: the step fails, the boot goes on
                        let _ = tx.send((i, Err(format!("unable to start a thread: {e}"))));
                    }
                }
            }
        }
        if left == 0 {
            break;
        }
        if running == 0 {
            // nothing runs and nothing can start: a loop of needs
            if let Some(i) = (0..n).find(|&i| !started[i]) {
                event(Event::Loop(&steps[i].name));
                needs[i].clear();
            }
            continue;
        }
        let Ok((i, r)) = rx.recv() else { break };
        running -= 1;
        let o = match r {
            Ok(()) => Outcome::Done,
            Err(e) if steps[i].critical => Outcome::Failed(e),
            Err(e) => Outcome::Warned(e),
        };
        event(Event::Ended(&steps[i].name, &o));
        outcome[i] = Some(o);
        left -= 1;
    }
    outcome
        .into_iter()
        .map(|o| o.unwrap_or(Outcome::NotRun(String::new())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::time::Duration;

    fn step(name: &str, needs: &[&str], critical: bool, ms: Option<u64>) -> Step<(String, u64)> {
        Step {
            name: name.into(),
            needs: needs.iter().map(|s| s.to_string()).collect(),
            critical,
            action: ms.map(|m| (name.to_string(), m)),
        }
    }

    /// Runs the plan; actions named "fail*" fail. Returns the outcomes and
    /// the order in which steps started and ended.
    fn go(steps: Vec<Step<(String, u64)>>) -> (Vec<Outcome>, Vec<String>) {
        let log = Arc::new(Mutex::new(Vec::new()));
        let l2 = Arc::clone(&log);
        let out = run(
            steps,
            move |(name, ms): &(String, u64)| {
                std::thread::sleep(Duration::from_millis(*ms));
                l2.lock().unwrap().push(format!("end {name}"));
                if name.starts_with("fail") {
                    Err(format!("{name} broke"))
                } else {
                    Ok(())
                }
            },
            |e| {
                if let Event::Started(n) = e {
                    log.lock().unwrap().push(format!("start {n}"));
                }
                if let Event::Loop(n) = e {
                    log.lock().unwrap().push(format!("loop {n}"));
                }
            },
        );
        let l = log.lock().unwrap().clone();
        (out, l)
    }

    fn pos(log: &[String], what: &str) -> usize {
        log.iter()
            .position(|l| l == what)
            .unwrap_or_else(|| panic!("{what} not in {log:?}"))
    }

    #[test]
    fn a_step_starts_only_after_what_it_needs_and_independent_ones_overlap() {
        let (out, log) = go(vec![
            step("mount /srv/data", &["mount /srv"], true, Some(1)),
            step("mount /srv", &["root"], true, Some(1)),
            step("root", &[], true, Some(1)),
            step("slow", &[], false, Some(300)),
            step("hostname", &[], false, Some(1)),
        ]);
        assert!(out.iter().all(|o| *o == Outcome::Done), "{out:?}");
        assert!(pos(&log, "end root") < pos(&log, "start mount /srv"));
        assert!(pos(&log, "end mount /srv") < pos(&log, "start mount /srv/data"));
        // slow runs beside the chain: the chain ends before it
        assert!(
            pos(&log, "end mount /srv/data") < pos(&log, "end slow"),
            "{log:?}"
        );
        assert!(pos(&log, "start slow") < pos(&log, "end root"), "{log:?}");
    }

    #[test]
    fn a_critical_failure_stops_what_needs_it_a_warning_does_not() {
        let (out, log) = go(vec![
            step("fail-fsck", &[], true, Some(1)),
            step("mount /srv", &["fail-fsck"], true, Some(1)),
            step("localfs", &["mount /srv"], true, None),
            step("clean", &["localfs"], false, Some(1)),
            step("fail-sysctl", &[], false, Some(1)),
            step("networking", &["fail-sysctl"], false, Some(1)),
        ]);
        assert_eq!(out[0], Outcome::Failed("fail-fsck broke".into()));
        assert_eq!(out[1], Outcome::NotRun("fail-fsck".into()));
        assert_eq!(out[2], Outcome::NotRun("mount /srv".into()));
        // a step that is not critical runs all the same
        assert_eq!(out[3], Outcome::Done);
        assert_eq!(out[4], Outcome::Warned("fail-sysctl broke".into()));
        assert_eq!(out[5], Outcome::Done);
        assert!(!log.contains(&"start mount /srv".to_string()));
    }

    #[test]
    fn a_loop_of_needs_is_broken_and_every_step_runs_once() {
        let (out, log) = go(vec![
            step("a", &["b"], false, Some(1)),
            step("b", &["a"], false, Some(1)),
            step("c", &["b", "nonexistent"], false, Some(1)),
        ]);
        assert!(out.iter().all(|o| *o == Outcome::Done));
        assert_eq!(log.iter().filter(|l| l.starts_with("loop")).count(), 1);
        assert_eq!(log.iter().filter(|l| l.starts_with("start")).count(), 3);
        assert!(pos(&log, "end b") < pos(&log, "start c"));
    }
}
