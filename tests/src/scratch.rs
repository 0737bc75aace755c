//! Scratch directories for tests: fresh, removed when dropped, named after the test that made them
//! so a leftover (a killed run) says whose it is.

use std::path::Path;
use tempfile::TempDir;

/// A fresh directory under the system's temporary directory.
///
/// # Panics
/// When the directory cannot be created: the test cannot run without it.
pub fn scratch_dir(test: &str) -> TempDir {
    in_parent(&std::env::temp_dir(), test)
}

/// A fresh directory in RAM (`/dev/shm`) where there is one, else as [`scratch_dir`]: stores that
/// fsync every save still write, sync and rename, but a long run does not wait on a disk.
///
/// # Panics
/// When the directory cannot be created.
pub fn scratch_dir_in_memory(test: &str) -> TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir()
        && let Ok(dir) = tempfile::Builder::new()
            .prefix(&prefix(test))
            .tempdir_in(shm)
    {
        return dir;
    }
    scratch_dir(test)
}

fn in_parent(parent: &Path, test: &str) -> TempDir {
    match tempfile::Builder::new()
        .prefix(&prefix(test))
        .tempdir_in(parent)
    {
        Ok(dir) => dir,
        Err(e) => panic!("{test}: scratch directory in {}: {e}", parent.display()),
    }
}

/// `maestro-<test>-`, kept a single path component (the name may be a test path `area::test`).
fn prefix(test: &str) -> String {
    format!("maestro-{test}-")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_call_gets_its_own_named_directory_that_goes_away() {
        let a = scratch_dir("area::same");
        let b = scratch_dir_in_memory("area::same");
        assert_ne!(a.path(), b.path());
        for d in [&a, &b] {
            assert!(d.path().is_dir());
            let name = d.path().file_name().and_then(|n| n.to_str()).unwrap_or("");
            assert!(name.starts_with("maestro-area__same-"), "{name}");
        }
        let kept = a.path().to_path_buf();
        drop(a);
        assert!(!kept.exists(), "removed on drop");
    }
}
