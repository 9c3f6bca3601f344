//! All-or-nothing outputs: every file and folder of one network is written
//! under a temporary name first and renamed into place only when all of
//! them are complete (and, for certificates, confirmed by the checker).
//!
//! A [`Staging`] hands out a temporary path beside each final path
//! ([`Staging::file`], [`Staging::folder`]): `.NAME.PID.tmp` in the same
//! folder, so the final rename never crosses a file system. The caller
//! writes there. [`Staging::commit`] then moves every existing final file or
//! folder aside (`.NAME.PID.old`), renames every temporary into place and
//! removes what was moved aside; if any rename fails it puts the old files
//! back, so the user sees either every new output or none of them. A
//! `Staging` dropped without a commit (an error, a panic) removes its
//! temporaries, and so does [`remove_live_temporaries`], which the command
//! line calls on SIGINT and SIGTERM.
//!
//! Folders that staging had to create for a temporary (the parents of an
//! output) are removed again on rollback when they are still empty.
//!
//! The signal handler runs on its own thread while the writer goes on, so
//! every file or folder created inside a temporary goes through
//! [`guarded`]: the handler closes that gate before it removes anything,
//! and keeps it closed until the process exits, so nothing is created
//! after the clean-up (a write in progress finishes first).

use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Every temporary path some [`Staging`] of this process holds, so that a
/// signal handler can remove them.
static LIVE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Every folder some uncommitted [`Staging`] of this process created, in
/// creation order, so that a signal handler can remove the ones left empty.
static LIVE_FOLDERS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// The gate between writers and the interrupt's clean-up: `true` once
/// [`remove_live_temporaries`] has begun (it then keeps the lock).
static GATE: Mutex<bool> = Mutex::new(false);

/// Runs `write`, which creates or fills files or folders inside a staged
/// temporary, unless an interrupt's clean-up has begun: then the caller
/// waits for the process to exit (or, were the gate ever reopened, gets
/// an `Interrupted` error). A clean-up waits for a write in progress.
pub fn guarded<T>(write: impl FnOnce() -> io::Result<T>) -> io::Result<T> {
    let interrupted = GATE.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if *interrupted {
        return Err(io::Error::new(
            io::ErrorKind::Interrupted,
            "interrupted: the outputs are being removed",
        ));
    }
    write()
}

/// Returns at once unless an interrupt's clean-up has begun; then waits
/// for the process to exit (with the interrupt's status). Called before
/// anything is printed and before the process exits, so that an error
/// caused by the clean-up itself (a temporary removed under a reader) is
/// neither reported nor allowed to replace the interrupt's exit status.
pub fn yield_to_interrupt() {
    let _ = guarded(|| Ok(()));
}

/// A failure to stage or commit, with the path it concerns.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {path}: {source}")]
pub struct StagingError {
    /// The output (its final path) or the folder concerned.
    pub path: PathBuf,
    /// The operating system's reason.
    #[source]
    pub source: io::Error,
}

/// One output waiting for its rename.
#[derive(Debug)]
struct Entry {
    /// Where the caller writes.
    temporary: PathBuf,
    /// Where it goes on commit.
    target: PathBuf,
}

/// The outputs of one unit of work (one network), committed together.
#[derive(Debug, Default)]
pub struct Staging {
    entries: Vec<Entry>,
    /// Folders created for temporaries, outermost first.
    created: Vec<PathBuf>,
}

impl Staging {
    /// An empty staging area.
    pub fn new() -> Staging {
        Staging::default()
    }

    /// A temporary path for the file `target`, in `target`'s folder (created
    /// if missing). Write the file there; [`Staging::commit`] renames it.
    pub fn file(&mut self, target: &Path) -> Result<PathBuf, StagingError> {
        self.stage(target)
    }

    /// A fresh, empty temporary folder for the folder `target`, beside it.
    /// Fill it; [`Staging::commit`] renames it to `target`.
    pub fn folder(&mut self, target: &Path) -> Result<PathBuf, StagingError> {
        let temporary = self.stage(target)?;
        guarded(|| std::fs::create_dir(&temporary)).map_err(|source| StagingError {
            path: target.to_path_buf(),
            source,
        })?;
        Ok(temporary)
    }

    /// The temporary path of an output staged before, if any.
    pub fn temporary_of(&self, target: &Path) -> Option<&Path> {
        self.entries
            .iter()
            .find(|e| e.target == target)
            .map(|e| e.temporary.as_path())
    }

    /// The final paths, in the order they were staged.
    pub fn targets(&self) -> impl Iterator<Item = &Path> {
        self.entries.iter().map(|e| e.target.as_path())
    }

    fn stage(&mut self, target: &Path) -> Result<PathBuf, StagingError> {
        let error = |source| StagingError {
            path: target.to_path_buf(),
            source,
        };
        let name = target
            .file_name()
            .ok_or_else(|| error(io::Error::other("the path names no file")))?;
        if let Some(parent) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
            self.create_folders(parent)?;
        }
        let temporary = sibling(target, name, "tmp");
        remove_any(&temporary).map_err(error)?;
        register(&temporary);
        self.entries.push(Entry {
            temporary: temporary.clone(),
            target: target.to_path_buf(),
        });
        Ok(temporary)
    }

    /// Creates `folder` and its missing ancestors, remembering each one
    /// created so that a rollback can remove it again.
    fn create_folders(&mut self, folder: &Path) -> Result<(), StagingError> {
        let mut missing = Vec::new();
        let mut current = Some(folder);
        while let Some(f) = current.filter(|f| !f.as_os_str().is_empty() && !f.exists()) {
            missing.push(f.to_path_buf());
            current = f.parent();
        }
        for f in missing.into_iter().rev() {
            // Registered under the gate, so a clean-up sees every folder
            // made before it began.
            let made = guarded(|| {
                std::fs::create_dir(&f)?;
                register_in(&LIVE_FOLDERS, &f);
                Ok(())
            });
            match made {
                Ok(()) => self.created.push(f),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(source) => return Err(StagingError { path: f, source }),
            }
        }
        Ok(())
    }

    /// Renames every staged output into place, replacing what was there.
    /// On failure every output is left as it was before (old files are put
    /// back) and the temporaries are removed. The registry of temporaries
    /// stays locked throughout, so an interrupt's handler waits for the
    /// commit to end instead of removing files in the middle of it.
    pub fn commit(mut self) -> Result<Vec<PathBuf>, StagingError> {
        let entries = std::mem::take(&mut self.entries);
        let mut live = LIVE.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut moved_aside: Vec<(PathBuf, PathBuf)> = Vec::new();
        let mut placed: Vec<&Entry> = Vec::new();
        let result = (|| {
            for entry in &entries {
                let error = |source| StagingError {
                    path: entry.target.clone(),
                    source,
                };
                if entry.target.symlink_metadata().is_ok() {
                    let name = entry.target.file_name().unwrap_or_default();
                    let old = sibling(&entry.target, name, "old");
                    remove_any(&old).map_err(error)?;
                    std::fs::rename(&entry.target, &old).map_err(error)?;
                    moved_aside.push((entry.target.clone(), old));
                }
                std::fs::rename(&entry.temporary, &entry.target).map_err(error)?;
                placed.push(entry);
            }
            Ok(())
        })();
        match result {
            Ok(()) => {
                for (_, old) in &moved_aside {
                    let _ = remove_any(old);
                }
                live.retain(|p| !entries.iter().any(|e| &e.temporary == p));
                for folder in std::mem::take(&mut self.created) {
                    unregister_in(&LIVE_FOLDERS, &folder);
                }
                Ok(entries.into_iter().map(|e| e.target).collect())
            }
            Err(e) => {
                for entry in placed {
                    let _ = remove_any(&entry.target);
                }
                for (target, old) in &moved_aside {
                    let _ = std::fs::rename(old, target);
                }
                drop(live);
                self.entries = entries;
                Err(e)
            }
        }
    }
}

impl Drop for Staging {
    /// Removes the temporaries of an uncommitted staging, and the folders it
    /// created that are empty again.
    fn drop(&mut self) {
        for entry in &self.entries {
            let _ = remove_any(&entry.temporary);
            unregister(&entry.temporary);
        }
        for folder in self.created.iter().rev() {
            let _ = std::fs::remove_dir(folder);
            unregister_in(&LIVE_FOLDERS, folder);
        }
    }
}

/// Removes every temporary of every live [`Staging`] of this process, then
/// the folders they created that are empty again (for a signal handler: the
/// process is about to exit without unwinding).
///
/// It closes the gate of [`guarded`] first and never reopens it: nothing
/// is created inside a temporary after this call.
pub fn remove_live_temporaries() {
    let mut gate = GATE.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    *gate = true;
    std::mem::forget(gate);
    for path in take_all(&LIVE) {
        let _ = remove_any(&path);
    }
    for folder in take_all(&LIVE_FOLDERS).iter().rev() {
        let _ = std::fs::remove_dir(folder);
    }
}

/// Empties a registry, even one a panicking thread left poisoned.
fn take_all(registry: &Mutex<Vec<PathBuf>>) -> Vec<PathBuf> {
    match registry.lock() {
        Ok(mut live) => std::mem::take(&mut *live),
        Err(poisoned) => std::mem::take(&mut *poisoned.into_inner()),
    }
}

/// `.NAME.PID.TAG` beside `target`.
fn sibling(target: &Path, name: &std::ffi::OsStr, tag: &str) -> PathBuf {
    let mut s = OsString::from(".");
    s.push(name);
    s.push(format!(".{}.{tag}", std::process::id()));
    target.with_file_name(s)
}

/// Removes a file or a folder tree; a missing path is not an error.
fn remove_any(path: &Path) -> io::Result<()> {
    match path.symlink_metadata() {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
        Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
    }
}

fn register(path: &Path) {
    register_in(&LIVE, path);
}

fn unregister(path: &Path) {
    unregister_in(&LIVE, path);
}

fn register_in(registry: &Mutex<Vec<PathBuf>>, path: &Path) {
    if let Ok(mut live) = registry.lock() {
        live.push(path.to_path_buf());
    }
}

/// Removes `path` from a registry, keeping the order of the others (folders
/// are removed innermost first, by reverse creation order).
fn unregister_in(registry: &Mutex<Vec<PathBuf>>, path: &Path) {
    if let Ok(mut live) = registry.lock() {
        if let Some(i) = live.iter().rposition(|p| p == path) {
            live.remove(i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn commit_replaces_every_output_together() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("net.onnx");
        let folder = dir.path().join("inst");
        std::fs::write(&file, "old model").unwrap();
        std::fs::create_dir(&folder).unwrap();
        std::fs::write(folder.join("stale.txt"), "old").unwrap();
        let mut staging = Staging::new();
        std::fs::write(staging.file(&file).unwrap(), "new model").unwrap();
        let inside = staging.folder(&folder).unwrap();
        std::fs::write(inside.join("fresh.txt"), "new").unwrap();
        // Nothing is visible before the commit.
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "old model");
        let written = staging.commit().unwrap();
        assert_eq!(written, vec![file.clone(), folder.clone()]);
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "new model");
        assert_eq!(listing(&folder), vec!["fresh.txt"]);
        assert_eq!(listing(dir.path()), vec!["inst", "net.onnx"]);
    }

    #[test]
    fn a_dropped_staging_leaves_the_old_outputs_and_no_temporaries() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("net.onnx");
        std::fs::write(&file, "old model").unwrap();
        let nested = dir.path().join("a/b/cert.json");
        {
            let mut staging = Staging::new();
            std::fs::write(staging.file(&file).unwrap(), "new").unwrap();
            std::fs::write(staging.file(&nested).unwrap(), "new cert").unwrap();
            let folder = staging.folder(&dir.path().join("inst")).unwrap();
            std::fs::write(folder.join("x"), "x").unwrap();
        }
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "old model");
        // The folders created for the certificate are gone again.
        assert_eq!(listing(dir.path()), vec!["net.onnx"]);
    }

    #[test]
    fn a_failed_commit_restores_the_old_outputs() {
        let dir = tempfile::tempdir().unwrap();
        let first = dir.path().join("net.onnx");
        let second = dir.path().join("cert.json");
        std::fs::write(&first, "old model").unwrap();
        std::fs::write(&second, "old cert").unwrap();
        let mut staging = Staging::new();
        std::fs::write(staging.file(&first).unwrap(), "new model").unwrap();
        let temp = staging.file(&second).unwrap();
        // The second temporary is never written: its rename fails.
        assert!(!temp.exists());
        let error = staging.commit().unwrap_err();
        assert_eq!(error.path, second);
        assert_eq!(std::fs::read_to_string(&first).unwrap(), "old model");
        assert_eq!(std::fs::read_to_string(&second).unwrap(), "old cert");
        assert_eq!(listing(dir.path()), vec!["cert.json", "net.onnx"]);
    }

    #[test]
    fn temporaries_are_registered_for_the_signal_handler_until_dropped() {
        // (Calling remove_live_temporaries here would race with the other
        // tests of this binary, which run in parallel threads.)
        let dir = tempfile::tempdir().unwrap();
        let mut staging = Staging::new();
        let temp = staging.file(&dir.path().join("x.onnx")).unwrap();
        let live = |p: &Path| LIVE.lock().unwrap().iter().any(|q| q == p);
        assert!(live(&temp));
        drop(staging);
        assert!(!live(&temp));
        assert!(listing(dir.path()).is_empty());
    }

    #[test]
    fn created_folders_are_registered_for_the_signal_handler_until_committed() {
        let dir = tempfile::tempdir().unwrap();
        let outer = dir.path().join("made");
        let inner = outer.join("by-robmem");
        let registered = |p: &Path| LIVE_FOLDERS.lock().unwrap().iter().any(|q| q == p);
        let mut staging = Staging::new();
        let temp = staging.file(&inner.join("x.onnx")).unwrap();
        assert!(registered(&outer) && registered(&inner));
        std::fs::write(&temp, "model").unwrap();
        staging.commit().unwrap();
        assert!(!registered(&outer) && !registered(&inner));
        assert!(inner.join("x.onnx").is_file());

        let mut dropped = Staging::new();
        let other = dir.path().join("never-written");
        dropped.file(&other.join("y.onnx")).unwrap();
        assert!(registered(&other));
        drop(dropped);
        assert!(!registered(&other) && !other.exists());
    }
}
