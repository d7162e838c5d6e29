//! Exit codes, documented once (CLI.md). `main` is the one place that turns an outcome into one.

/// Done (or a dry run that found nothing wrong).
pub const OK: i32 = 0;
/// Failed; what changed, if anything, is said on stderr.
pub const FAILED: i32 = 1;
/// Usage error, bad input or failed preflight: nothing was changed.
pub const USAGE: i32 = 2;
/// Incomplete: the token was rotated but some targets were not updated.
pub const INCOMPLETE: i32 = 3;
/// Stopped by the operator or by a gate: not a failure; nothing changed after that point.
pub const STOPPED: i32 = 4;
/// Outcome unknown: the rotate call's response was lost.
pub const UNKNOWN: i32 = 5;
/// Interrupted (Ctrl-C).
pub const INTERRUPTED: i32 = 130;

/// Each code and what it tells the operator: the one table `--help` and the manual page show.
pub const MEANINGS: &[(i32, &str)] = &[
    (OK, "done"),
    (
        FAILED,
        "failed, or a check found something a person must act on; what changed, if anything, is in the journal",
    ),
    (USAGE, "bad input or failed check: nothing was changed"),
    (INCOMPLETE, "incomplete: `tokrot resume ID` finishes it"),
    (STOPPED, "stopped by the operator or a gate"),
    (UNKNOWN, "outcome unknown: the message says how to recover"),
    (INTERRUPTED, "interrupted"),
];
