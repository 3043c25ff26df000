//! runit-stage: stage 1 and stage 3 of a Debian boot done natively, the
//! independent steps side by side (docs/runit-stage.md).
pub mod boot;
pub mod conf;
pub mod fstab;
pub mod halt;
pub mod lsb;
pub mod plan;
pub mod schedule;
