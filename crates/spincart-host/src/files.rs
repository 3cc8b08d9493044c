//! A component's `files`, mounted as `spin up` mounts them by default (Spin's
//! `FilesMountStrategy::Copy`, `crates/loader/src/local.rs`): at start-up every matched file is
//! copied into a directory of the component's own, and that directory is preopened read-only at
//! `/` in each instance (`crates/factor-wasi/src/spin.rs`). So, as in Spin:
//!
//! * the guest sees a snapshot taken at start-up, and nothing outside it;
//! * `"static/*.css"` (a glob, relative to the manifest's directory) puts each match at the same
//!   relative path under `/`; a path that exists is taken as is, and a directory `"static"` lands
//!   under `/static/static/…` (Spin 4.0.2 and 3.6.3 do exactly that);
//! * `{ source = "dist", destination = "/" }` puts the directory's files (or the file) at
//!   `destination`;
//! * `exclude_files` globs, matched against paths relative to the manifest's directory, leave
//!   files out;
//! * a `source` that does not exist stops the app at start-up
//!   (`File or directory "dist" does not exist`).
//!
//! Spin has no write access either unless `--allow-transient-write` is given, which this host
//! does not offer. Where Spin would write outside its copy (`..` in a pattern or destination),
//! this host refuses the manifest.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use anyhow::{bail, Context};

use crate::manifest::{AppManifest, FilesMount};

/// The copies of the components' files; they are removed when this is dropped, and by a later
/// host when this one was killed (see [`remove_abandoned_copies`]).
pub struct MountedFiles {
    _root: tempfile::TempDir,
    _lock: std::fs::File,
    dirs: HashMap<String, PathBuf>,
}

/// What the copies' temporary directories are called.
const COPY_PREFIX: &str = "spincart-host-files-";
/// A file in each copy's directory that its host keeps locked (the kernel unlocks it when the
/// process ends, however it ends).
const LOCK_FILE: &str = ".spincart-host.lock";

impl MountedFiles {
    /// Copies the `files` of the components named by `ids`; `None` when none has any.
    pub fn prepare(manifest: &AppManifest, ids: &[String]) -> anyhow::Result<Option<MountedFiles>> {
        let with_files: Vec<&String> = ids
            .iter()
            .filter(|id| {
                manifest
                    .components
                    .get(id.as_str())
                    .is_some_and(|c| !c.files.is_empty())
            })
            .collect();
        if with_files.is_empty() {
            return Ok(None);
        }
        let app_root = std::path::absolute(&manifest.dir)
            .with_context(|| format!("Invalid manifest dir {:?}", manifest.dir))?;
        remove_abandoned_copies(&std::env::temp_dir());
        let root = tempfile::Builder::new()
            .prefix(COPY_PREFIX)
            .tempdir()
            .context("cannot create a directory for the components' files")?;
        let lock = std::fs::File::create(root.path().join(LOCK_FILE))
            .context("cannot create the lock file of the components' files")?;
        if !try_lock(&lock) {
            bail!("cannot lock {:?}", root.path().join(LOCK_FILE));
        }
        let mut dirs = HashMap::new();
        for id in with_files {
            if dirs.contains_key(id.as_str()) {
                continue;
            }
            let component = &manifest.components[id.as_str()];
            let dest = root.path().join(id);
            std::fs::create_dir_all(&dest)
                .with_context(|| format!("Failed to create directory {dest:?}"))?;
            copy_files(&app_root, &component.files, &component.exclude_files, &dest)
                .with_context(|| format!("Failed to load component `{id}`"))?;
            dirs.insert(id.clone(), dest);
        }
        Ok(Some(MountedFiles {
            _root: root,
            _lock: lock,
            dirs,
        }))
    }

    /// The host directory to mount at `/` for component `id`, if it has files.
    pub fn dir(&self, id: &str) -> Option<&Path> {
        self.dirs.get(id).map(PathBuf::as_path)
    }
}

/// Removes the copies under `temp_dir` that no running host holds: left by a host that was
/// killed (`spin up` leaves its copies behind then too). A copy younger than a minute is left
/// alone, so that one whose host has not locked it yet is never taken.
pub fn remove_abandoned_copies(temp_dir: &Path) {
    let Ok(entries) = std::fs::read_dir(temp_dir) else {
        return;
    };
    for entry in entries.flatten() {
        if !entry.file_name().to_string_lossy().starts_with(COPY_PREFIX) {
            continue;
        }
        let dir = entry.path();
        let Ok(lock) = std::fs::File::open(dir.join(LOCK_FILE)) else {
            continue;
        };
        let old = lock
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > std::time::Duration::from_secs(60));
        if old && try_lock(&lock) {
            tracing::debug!("removing abandoned files copy {dir:?}");
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}

/// Takes an exclusive lock on `file` without waiting; false when another process holds it.
#[cfg(unix)]
fn try_lock(file: &std::fs::File) -> bool {
    rustix::fs::flock(file, rustix::fs::FlockOperation::NonBlockingLockExclusive).is_ok()
}

#[cfg(not(unix))]
fn try_lock(_file: &std::fs::File) -> bool {
    // No sweeping elsewhere: a copy is only removed by the host that made it.
    false
}

/// Copies what `mounts` select (less `exclude_files`) from `app_root` into `dest_root`, laid out
/// as the guest will see it under `/`.
pub fn copy_files(
    app_root: &Path,
    mounts: &[FilesMount],
    exclude_files: &[String],
    dest_root: &Path,
) -> anyhow::Result<()> {
    let excludes = exclude_files
        .iter()
        .map(|pattern| {
            glob::Pattern::new(pattern)
                .with_context(|| format!("Invalid exclude_files glob pattern {pattern:?}"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let copier = Copier {
        app_root,
        excludes: &excludes,
    };
    for mount in mounts {
        match mount {
            FilesMount::Pattern(pattern) => copier.glob_or_path(pattern, dest_root)?,
            FilesMount::Placement {
                source,
                destination,
            } => {
                let relative = destination.trim_start_matches('/');
                refuse_parent_dirs(relative, "destination")?;
                refuse_parent_dirs(source, "source")?;
                copier.file_or_directory(source, &dest_root.join(relative), destination)?;
            }
        }
    }
    Ok(())
}

fn refuse_parent_dirs(path: &str, what: &str) -> anyhow::Result<()> {
    if Path::new(path)
        .components()
        .any(|c| matches!(c, Component::ParentDir))
    {
        bail!("files mount {what} {path:?} must not contain a parent directory path (..); spincart-host keeps mounted files inside the application directory");
    }
    Ok(())
}

struct Copier<'a> {
    app_root: &'a Path,
    excludes: &'a [glob::Pattern],
}

impl Copier<'_> {
    /// `"path/or/glob*"`, Spin's `copy_glob_or_path`.
    fn glob_or_path(&self, glob_or_path: &str, dest_root: &Path) -> anyhow::Result<()> {
        const LEARN_MORE: &str =
            "Learn more: https://spinframework.dev/writing-apps#including-files-with-components";
        if glob_or_path == ".." || glob_or_path.ends_with("/..") {
            bail!("A file pattern can't end in a parent directory path (..)\nIf you want to include a directory, use source-destination form, or a glob pattern ending in **/*.\n{LEARN_MORE}");
        }
        if glob_or_path == "." || glob_or_path.ends_with("/.") {
            bail!("A file pattern can't end in a current directory path (.)\nIf you want to include a directory, use source-destination form, or a glob pattern ending in **/*.\n{LEARN_MORE}");
        }
        refuse_parent_dirs(glob_or_path, "pattern")?;
        if glob_or_path == "*" || glob_or_path == "**/*" {
            tracing::warn!("a component includes the whole application directory as files ({glob_or_path:?}); use \"./{glob_or_path}\" if that is intended");
        }
        let path = self.app_root.join(glob_or_path);
        if path.exists() {
            let dest = dest_root.join(glob_or_path);
            if path.is_dir() {
                // As Spin: matches keep their app-relative path under `dest`.
                self.glob(&path.join("**/*"), self.app_root, &dest)
            } else {
                copy_single_file(&path, &dest)
            }
        } else if glob::Pattern::escape(glob_or_path) != glob_or_path {
            self.glob(&path, self.app_root, dest_root)
        } else {
            bail!("{glob_or_path:?} does not exist and doesn't appear to be a glob pattern")
        }
    }

    /// `{ source, destination }`, Spin's `copy_file_or_directory`.
    fn file_or_directory(
        &self,
        source: &str,
        dest: &Path,
        destination: &str,
    ) -> anyhow::Result<()> {
        let src = self.app_root.join(source);
        let metadata = std::fs::metadata(&src).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                anyhow::anyhow!("File or directory {source:?} does not exist")
            } else {
                anyhow::Error::new(e).context(format!("invalid file mount source {source:?}"))
            }
        })?;
        if metadata.is_dir() {
            self.glob(&src.join("**/*"), &src, dest)
        } else {
            if destination.ends_with('/') || destination.ends_with('.') {
                bail!("\"{destination}\" is not a valid destination file name");
            }
            copy_single_file(&src, dest)
        }
    }

    /// Copies the files matching `pattern` to `dest_root`, each at its path relative to
    /// `src_prefix`, unless `exclude_files` names it (relative to the app's directory).
    fn glob(&self, pattern: &Path, src_prefix: &Path, dest_root: &Path) -> anyhow::Result<()> {
        let pattern = pattern
            .to_str()
            .with_context(|| format!("invalid (non-utf8) file pattern {pattern:?}"))?;
        let paths = glob::glob(pattern)
            .with_context(|| format!("Failed to resolve glob pattern {pattern:?}"))?;
        std::fs::create_dir_all(dest_root)
            .with_context(|| format!("Failed to create parent directory {dest_root:?}"))?;
        for path in paths {
            let src = path?;
            if !src.is_file() {
                continue;
            }
            let Ok(app_relative) = src.strip_prefix(self.app_root) else {
                bail!("{pattern} cannot be mapped because it is outside the application directory. Files must be within the application directory.");
            };
            if self.excludes.iter().any(|p| p.matches_path(app_relative)) {
                tracing::debug!("file {app_relative:?} excluded by exclude_files");
                continue;
            }
            let relative = src.strip_prefix(src_prefix)?;
            copy_single_file(&src, &dest_root.join(relative))?;
        }
        Ok(())
    }
}

fn copy_single_file(src: &Path, dest: &Path) -> anyhow::Result<()> {
    if let Some(parent) = dest.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("Failed to create parent directory {parent:?}"))?;
    }
    std::fs::copy(src, dest)
        .with_context(|| format!("Failed to copy {src:?} to working path {dest:?}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An app directory with `dist/index.html`, `dist/assets/app.js`, `dist/secret.txt` and
    /// `notes.md`.
    fn app_dir() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in [
            ("dist/index.html", "<html>"),
            ("dist/assets/app.js", "js"),
            ("dist/secret.txt", "s"),
            ("notes.md", "n"),
        ] {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        dir
    }

    /// The files under `root`, relative, sorted.
    fn listing(root: &Path) -> Vec<String> {
        let mut found: Vec<String> = glob::glob(root.join("**/*").to_str().unwrap())
            .unwrap()
            .map(Result::unwrap)
            .filter(|p| p.is_file())
            .map(|p| p.strip_prefix(root).unwrap().display().to_string())
            .collect();
        found.sort();
        found
    }

    fn copy(mounts: &[FilesMount], exclude: &[&str]) -> anyhow::Result<Vec<String>> {
        let app = app_dir();
        let dest = tempfile::tempdir().unwrap();
        let exclude: Vec<String> = exclude.iter().map(|s| s.to_string()).collect();
        copy_files(app.path(), mounts, &exclude, dest.path())?;
        Ok(listing(dest.path()))
    }

    fn placement(source: &str, destination: &str) -> FilesMount {
        FilesMount::Placement {
            source: source.into(),
            destination: destination.into(),
        }
    }

    #[test]
    fn a_directory_placed_at_the_root_shows_its_files_at_the_root() {
        assert_eq!(
            copy(&[placement("dist", "/")], &[]).unwrap(),
            ["assets/app.js", "index.html", "secret.txt"]
        );
    }

    #[test]
    fn a_directory_placed_elsewhere_lands_under_its_destination() {
        assert_eq!(
            copy(&[placement("dist/assets", "/static")], &[]).unwrap(),
            ["static/app.js"]
        );
    }

    #[test]
    fn a_single_file_can_be_placed() {
        assert_eq!(
            copy(&[placement("notes.md", "/docs/readme.md")], &[]).unwrap(),
            ["docs/readme.md"]
        );
    }

    #[test]
    fn exclude_files_are_relative_to_the_app_and_left_out() {
        assert_eq!(
            copy(&[placement("dist", "/")], &["dist/secret.txt"]).unwrap(),
            ["assets/app.js", "index.html"]
        );
        assert_eq!(
            copy(&[FilesMount::Pattern("dist/**/*".into())], &["**/*.js"]).unwrap(),
            ["dist/index.html", "dist/secret.txt"]
        );
    }

    #[test]
    fn a_glob_keeps_each_match_at_its_app_relative_path() {
        assert_eq!(
            copy(&[FilesMount::Pattern("dist/*.html".into())], &[]).unwrap(),
            ["dist/index.html"]
        );
        assert_eq!(
            copy(&[FilesMount::Pattern("notes.md".into())], &[]).unwrap(),
            ["notes.md"]
        );
    }

    #[test]
    fn a_directory_pattern_is_nested_twice_as_in_spin() {
        assert_eq!(
            copy(&[FilesMount::Pattern("dist/assets".into())], &[]).unwrap(),
            ["dist/assets/dist/assets/app.js"]
        );
    }

    #[test]
    fn errors_when_the_source_directory_does_not_exist() {
        let error = copy(&[placement("storefront/dist", "/")], &[]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "File or directory \"storefront/dist\" does not exist"
        );
    }

    #[test]
    fn errors_on_a_missing_path_that_is_not_a_glob() {
        let error = copy(&[FilesMount::Pattern("nope.txt".into())], &[]).unwrap_err();
        assert!(error.to_string().contains("does not exist"), "{error}");
    }

    #[test]
    fn refuses_patterns_and_destinations_that_leave_the_app() {
        for mounts in [
            vec![FilesMount::Pattern("..".into())],
            vec![FilesMount::Pattern("../*".into())],
            vec![FilesMount::Pattern(".".into())],
            vec![placement("../etc", "/")],
            vec![placement("dist", "/../x")],
        ] {
            assert!(copy(&mounts, &[]).is_err(), "{mounts:?}");
        }
    }

    #[test]
    fn removes_only_the_copies_no_host_holds() {
        let temp = tempfile::tempdir().unwrap();
        let copy = |name: &str| {
            let dir = temp.path().join(format!("{COPY_PREFIX}{name}"));
            std::fs::create_dir_all(&dir).unwrap();
            let lock = std::fs::File::create(dir.join(LOCK_FILE)).unwrap();
            lock.set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(120))
                .unwrap();
            (dir, lock)
        };
        let (abandoned, abandoned_lock) = copy("abandoned");
        drop(abandoned_lock);
        let (held, held_lock) = copy("held");
        assert!(try_lock(&held_lock));
        let (young, young_lock) = copy("young");
        young_lock
            .set_modified(std::time::SystemTime::now())
            .unwrap();
        let unrelated = temp.path().join("something-else");
        std::fs::create_dir_all(&unrelated).unwrap();

        remove_abandoned_copies(temp.path());

        assert!(!abandoned.exists());
        // flock locks belong to the open file: the sweep's own open of `held` cannot take it.
        assert!(held.exists());
        assert!(young.exists());
        assert!(unrelated.exists());
    }

    #[test]
    fn errors_on_an_invalid_exclude_pattern() {
        let error = copy(&[placement("dist", "/")], &["a[b"]).unwrap_err();
        assert!(
            error.to_string().contains("Invalid exclude_files"),
            "{error}"
        );
    }
}
