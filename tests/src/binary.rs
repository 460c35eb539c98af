//! Where our built binaries are. `CARGO_BIN_EXE_<name>` only serves a
//! crate's own tests, so, like ripgrep's `tests/util.rs`, we look next to
//! the running test executable (`target/<profile>/deps/..`) and then in
//! the usual target directories.

use std::env;
use std::path::{Path, PathBuf};

/// The workspace root (the directory holding the root `Cargo.toml`).
pub fn workspace_root() -> &'static Path {
    // This crate lives in `<root>/tests`, so the parent always exists.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the e2e crate is one level below the workspace root")
}

/// The directories searched for our binaries, best first: the profile
/// directory of the running test executable, then `$CARGO_TARGET_DIR` and
/// `<workspace>/target`, each `debug` before `release`.
pub fn bin_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Ok(exe) = env::current_exe()
        && let Some(dir) = profile_dir_of(&exe)
    {
        dirs.push(dir);
    }
    let mut targets = Vec::new();
    if let Some(dir) = env::var_os("CARGO_TARGET_DIR") {
        targets.push(workspace_root().join(dir));
    }
    targets.push(workspace_root().join("target"));
    for target in targets {
        for profile in ["debug", "release"] {
            let dir = target.join(profile);
            if !dirs.contains(&dir) {
                dirs.push(dir);
            }
        }
    }
    dirs
}

/// `target/debug/deps/e2e-1234` → `target/debug`; `target/debug/foo` →
/// `target/debug`.
fn profile_dir_of(exe: &Path) -> Option<PathBuf> {
    let dir = exe.parent()?;
    Some(if dir.ends_with("deps") {
        dir.parent()?.to_path_buf()
    } else {
        dir.to_path_buf()
    })
}

/// The first `dir/name` that is a file.
fn find_in(dirs: &[PathBuf], name: &str) -> Option<PathBuf> {
    dirs.iter().map(|d| d.join(name)).find(|p| p.is_file())
}

/// The path of our binary `name` (e.g. `postconf`, `master`).
///
/// # Panics
/// If it has not been built: the e2e tests run the binaries, they do not
/// build them. `scripts/test` builds them first.
pub fn our_binary(name: &str) -> PathBuf {
    let dirs = bin_dirs();
    match find_in(&dirs, name) {
        Some(path) => path,
        None => panic!(
            "our binary `{name}` is not built (looked in {dirs:?}); \
             build it first: cargo build --workspace"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_dir_strips_deps() {
        assert_eq!(
            profile_dir_of(Path::new("/w/target/debug/deps/e2e-0123")),
            Some(PathBuf::from("/w/target/debug"))
        );
        assert_eq!(
            profile_dir_of(Path::new("/w/target/release/harness")),
            Some(PathBuf::from("/w/target/release"))
        );
    }

    #[test]
    fn find_in_takes_the_first_directory_that_has_it() {
        let tmp = tempfile::tempdir().unwrap();
        let debug = tmp.path().join("debug");
        let release = tmp.path().join("release");
        std::fs::create_dir_all(&debug).unwrap();
        std::fs::create_dir_all(&release).unwrap();
        std::fs::write(release.join("postconf"), "").unwrap();
        let dirs = [debug.clone(), release.clone()];
        assert_eq!(find_in(&dirs, "postconf"), Some(release.join("postconf")));
        std::fs::write(debug.join("postconf"), "").unwrap();
        assert_eq!(find_in(&dirs, "postconf"), Some(debug.join("postconf")));
        assert_eq!(find_in(&dirs, "master"), None);
        // A directory of that name is not a binary.
        std::fs::create_dir(debug.join("smtpd")).unwrap();
        assert_eq!(find_in(&dirs, "smtpd"), None);
    }

    #[test]
    fn bin_dirs_start_with_the_test_executables_profile() {
        let exe = env::current_exe().unwrap();
        let dirs = bin_dirs();
        assert_eq!(dirs.first(), profile_dir_of(&exe).as_ref());
        assert!(dirs.contains(&workspace_root().join("target/debug")));
    }

    #[test]
    #[should_panic(expected = "build it first: cargo build --workspace")]
    fn a_missing_binary_says_how_to_build_it() {
        our_binary("no-such-binary-of-ours");
    }
}
