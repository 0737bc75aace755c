//! Where the real market data lives, and what a test does when it is missing.
//!
//! The data sits beside the project (`../shared/data`, overridable with `MAESTRO_DATA_DIR`) and is
//! never copied into it. Under CI (`CI=true`) a missing file fails the test; on a user's fresh clone
//! the test returns early, and because cargo captures what a passing test prints, the skip is also
//! appended to a list in the target directory ([`skip_list`]) that `.ci/test` prints at its end.

use std::io::Write;
use std::path::{Path, PathBuf};

/// The directory holding the shared market data files.
pub fn data_dir() -> PathBuf {
    match std::env::var_os("MAESTRO_DATA_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"),
    }
}

/// The file every skipped test is listed in: `MAESTRO_SKIP_LIST` when set, otherwise
/// `maestro-skipped.txt` in the target directory of the running test binary (tests run from
/// `<target>/<profile>/deps/`), which is `$CARGO_TARGET_DIR` or the workspace's `target/`.
pub fn skip_list() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("MAESTRO_SKIP_LIST") {
        return Some(PathBuf::from(path));
    }
    let exe = std::env::current_exe().ok()?;
    let target = exe.parent()?.parent()?.parent()?;
    Some(target.join("maestro-skipped.txt"))
}

/// Appends one line `test<TAB>missing<TAB>reason` to `list`, in a single write to a file opened
/// for appending, so tests skipping at once on parallel threads or in separate binaries never
/// interleave their lines.
pub fn record_skip(list: &Path, test: &str, missing: &Path, reason: &str) -> std::io::Result<()> {
    let clean = |s: &str| s.replace(['\t', '\n'], " ");
    let line = format!(
        "{}\t{}\t{}\n",
        clean(test),
        clean(&missing.display().to_string()),
        clean(reason)
    );
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(list)?
        .write_all(line.as_bytes())
}

/// The path of a shared data file, or `None` (after saying so and listing the skip) when it is
/// absent outside CI.
///
/// # Panics
/// Under CI (`CI=true`), when the file is missing: CI must never pass by skipping.
pub fn data_file(test: &str, name: &str) -> Option<PathBuf> {
    let path = data_dir().join(name);
    if path.is_file() {
        return Some(path);
    }
    let in_ci = std::env::var("CI").is_ok_and(|v| v == "true");
    assert!(
        !in_ci,
        "{test}: market data file {} is missing (set MAESTRO_DATA_DIR to the shared data directory)",
        path.display()
    );
    // libtest names each test's thread after its full path, which finds the test in a shared binary.
    let current = std::thread::current();
    let name = match current.name() {
        Some(full) if full != "main" => full.to_owned(),
        _ => test.to_owned(),
    };
    let reason = "real market data not found (set MAESTRO_DATA_DIR or put the shared data in ../shared/data)";
    eprintln!(
        "SKIPPED {name}: market data file {} not found",
        path.display()
    );
    if let Some(list) = skip_list()
        && let Err(e) = record_skip(&list, &name, &path, reason)
    {
        eprintln!("could not list the skip in {}: {e}", list.display());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_from_parallel_threads_land_as_whole_lines() {
        let dir = tempfile::tempdir().expect("temp dir");
        let list = dir.path().join("skipped.txt");
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let list = list.clone();
                std::thread::spawn(move || {
                    for i in 0..50 {
                        let missing = PathBuf::from(format!("/nowhere/file-{t}-{i}.json"));
                        record_skip(&list, &format!("area::test_{t}"), &missing, "absent\tfile")
                            .expect("append");
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("thread");
        }
        let text = std::fs::read_to_string(&list).expect("list");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 400, "one line per skip");
        for line in lines {
            let fields: Vec<&str> = line.split('\t').collect();
            assert_eq!(fields.len(), 3, "test, path, reason: {line:?}");
            assert!(fields[0].starts_with("area::test_"), "{line:?}");
            assert!(fields[1].starts_with("/nowhere/file-"), "{line:?}");
            assert_eq!(
                fields[2], "absent file",
                "a tab in the reason is cleaned: {line:?}"
            );
        }
    }

    #[test]
    fn a_missing_file_outside_ci_is_listed_under_the_test_s_own_name() {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            // Under CI the same call must fail instead: checked by the panic test below.
            return;
        }
        let list = skip_list().expect("a skip list path");
        let name = "surely-not-a-shared-file-0b5e.json";
        assert!(data_file("label", name).is_none());
        let text = std::fs::read_to_string(&list).expect("the skip was listed");
        let current = std::thread::current();
        let me = current.name().expect("libtest names test threads");
        assert!(
            text.lines()
                .any(|l| l.starts_with(&format!("{me}\t")) && l.contains(name)),
            "{me} and {name} in {}:\n{text}",
            list.display()
        );
        // This skip is the mechanism's own check, not a real-data test: take it off the list.
        let kept: String = text
            .lines()
            .filter(|l| !l.contains(name))
            .map(|l| format!("{l}\n"))
            .collect();
        std::fs::write(&list, kept).expect("rewrite the list");
    }
}
