//! Tests of `dist/`, the Debian system around runit-rs (stage scripts,
//! service directories, halt/reboot/shutdown, update-service, invoke-run and
//! `dist/install`). The tests live in `tests/`; this library only gives the
//! crate a target so the workspace builds.
#![deny(unsafe_code)]
