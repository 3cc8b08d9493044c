//! Skips that cannot hide.
//!
//! A test that cannot run where it is (say, one that must stop parts of an app, run against an
//! app it did not start) calls [`skip`] and returns. That
//!
//! * prints `SKIPPED <test>: <reason>` to the test's output;
//! * appends the same line to the file named by `SPINCART_SKIP_LOG` (`make test` sets it and
//!   prints every line of it in its closing summary, so "all tests passed" always says what
//!   did not run);
//! * fails the test when `CI` is `true`: in CI every suite must really run.
//!
//! A test that checks something the runtime under test does not have at all (real Spin's
//! OpenTelemetry export, on the local host) calls [`not_applicable`] instead: listed the same
//! way, with `N/A`, and never a failure — another test covers what that runtime does have.

use std::io::Write as _;
use std::path::PathBuf;

/// The name of the running test (libtest names each test's thread after it).
fn current_test() -> String {
    std::thread::current()
        .name()
        .unwrap_or("an unnamed test")
        .to_owned()
}

/// The skip log `make test` collects, when set.
pub fn skipped_log() -> Option<PathBuf> {
    std::env::var_os("SPINCART_SKIP_LOG")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

fn record(line: &str, log: Option<&std::path::Path>) {
    eprintln!("{line}");
    if let Some(path) = log {
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap_or_else(|e| panic!("opening the skip log {path:?}: {e}"));
        writeln!(file, "{line}").expect("writing the skip log");
    }
}

/// Records that the running test is skipped, and why (see the module documentation). Under
/// `CI=true` this panics: the test fails instead.
pub fn skip(reason: &str) {
    let in_ci = std::env::var("CI").is_ok_and(|v| v == "true");
    skip_with(reason, skipped_log().as_deref(), in_ci);
}

fn skip_with(reason: &str, log: Option<&std::path::Path>, in_ci: bool) {
    let line = format!("SKIPPED {}: {reason}", current_test());
    record(&line, log);
    if in_ci {
        panic!("{line} — under CI=true every test must run");
    }
}

/// Records that what the running test checks does not exist on the runtime under test, and why
/// (see the module documentation). Never a failure.
pub fn not_applicable(reason: &str) {
    record(
        &format!("N/A {}: {reason}", current_test()),
        skipped_log().as_deref(),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log_file() -> PathBuf {
        std::env::temp_dir().join(format!(
            "spincart-skips-{}-{:?}.log",
            std::process::id(),
            std::thread::current().id()
        ))
    }

    #[test]
    fn a_skip_is_written_to_the_log_with_the_test_and_its_reason() {
        let log = log_file();
        skip_with("needs the app's database", Some(&log), false);
        skip_with("needs its Redis", Some(&log), false);
        let written = std::fs::read_to_string(&log).unwrap();
        std::fs::remove_file(&log).unwrap();
        let this = "skip::tests::a_skip_is_written_to_the_log_with_the_test_and_its_reason";
        assert_eq!(
            written,
            format!("SKIPPED {this}: needs the app's database\nSKIPPED {this}: needs its Redis\n")
        );
    }

    #[test]
    #[should_panic(expected = "under CI=true every test must run")]
    fn a_skip_under_ci_fails_the_test() {
        skip_with("needs the app's database", None, true);
    }
}
