//! What only an init needs: reboot(2) (halt, power off, reboot, and the
//! Ctrl-Alt-Del switch) and sync(2), shared with the std-free PID 1.

pub use runit_core::sys::init::{
    reboot, sync, RB_AUTOBOOT, RB_DISABLE_CAD, RB_HALT_SYSTEM, RB_POWER_OFF,
};
