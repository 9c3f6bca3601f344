//! The outputs of a run, resolved and checked before anything is compiled
//! or written: every ONNX file, certificate and VNN-LIB folder the selected
//! networks' `emit` blocks name (re-rooted under `--out DIR` when given).
//!
//! [`check_outputs`] refuses, naming the emit blocks concerned:
//! - two outputs at the same path, or one inside another's folder;
//! - an output that is an input of the run (the spec, a CSV or `.npy` data
//!   file) or a folder that contains one;
//! - with `--out DIR`, an output that would land outside DIR;
//! - a VNN-LIB folder path where something exists that robmem did not make:
//!   a regular file, or a folder without robmem's manifest
//!   ([`FOLDER_MANIFEST`], written in every instance folder);
//! - an ONNX file or certificate path where a folder exists.
//!
//! These are usage errors (exit 2): nothing has been written when they are
//! reported.

use crate::data::DataSource;
use crate::diagnostics::{Category, SpecError};
use crate::spec::Program;
use miette::SourceSpan;
use std::path::{Component, Path, PathBuf};

/// The file robmem writes inside every VNN-LIB folder it makes; an existing
/// folder is replaced only when it holds this file.
pub const FOLDER_MANIFEST: &str = "robmem-folder.json";

/// What kind of thing an output is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Onnx,
    Certificate,
    Folder,
}

impl Kind {
    fn key(self) -> &'static str {
        match self {
            Kind::Onnx => "onnx",
            Kind::Certificate => "certificate",
            Kind::Folder => "vnnlib",
        }
    }
}

/// One output of the run.
struct Planned {
    /// As it will be written.
    path: PathBuf,
    /// Absolute and lexically normalised, for comparisons.
    key: PathBuf,
    kind: Kind,
    /// The emit block that names it.
    span: SourceSpan,
}

/// Where an `emit` path goes: as resolved (relative to the spec's folder),
/// or re-rooted under `--out DIR`, keeping its place relative to the spec's
/// folder.
pub(crate) fn output_path(program: &Program, path: &Path, out: Option<&Path>) -> PathBuf {
    let Some(out) = out else {
        return path.to_path_buf();
    };
    let spec_dir = program.path.parent().unwrap_or(Path::new(""));
    match path.strip_prefix(spec_dir) {
        Ok(relative) => out.join(relative),
        Err(_) => out.join(path.file_name().unwrap_or(path.as_os_str())),
    }
}

/// Checks every output of the networks `selected` (see the module doc).
pub(crate) fn check_outputs(
    program: &Program,
    selected: &[usize],
    out: Option<&Path>,
) -> Result<(), SpecError> {
    let mut planned = Vec::new();
    for emit in program
        .emits
        .iter()
        .filter(|e| selected.contains(&e.network))
    {
        for (kind, path) in [
            (Kind::Onnx, &emit.onnx),
            (Kind::Certificate, &emit.certificate),
            (Kind::Folder, &emit.vnnlib),
        ] {
            if let Some(path) = path {
                let path = output_path(program, path, out);
                planned.push(Planned {
                    key: normalised(&path),
                    path,
                    kind,
                    span: emit.span,
                });
            }
        }
    }
    if let Some(out) = out {
        let root = normalised(out);
        if let Some(p) = planned.iter().find(|p| !p.key.starts_with(&root)) {
            return Err(refusal(
                program,
                p,
                format!(
                    "`{}` would be written to {}, outside --out {}",
                    p.kind.key(),
                    p.path.display(),
                    out.display()
                ),
                "with --out DIR every output goes under DIR: use a path inside the spec's folder"
                    .into(),
            ));
        }
    }
    for (i, a) in planned.iter().enumerate() {
        for b in &planned[i + 1..] {
            if a.key == b.key
                || (a.kind == Kind::Folder && b.key.starts_with(&a.key))
                || (b.kind == Kind::Folder && a.key.starts_with(&b.key))
            {
                let (line_a, line_b) = (line_of(program, a.span), line_of(program, b.span));
                return Err(refusal(
                    program,
                    b,
                    format!(
                        "`{}` = {} (line {line_b}) and `{}` = {} (line {line_a}) write to the same place",
                        b.kind.key(),
                        b.path.display(),
                        a.kind.key(),
                        a.path.display()
                    ),
                    "give every output its own path, outside every `vnnlib` folder".into(),
                ));
            }
        }
    }
    for input in inputs(program) {
        let key = normalised(&input);
        if let Some(p) = planned
            .iter()
            .find(|p| p.key == key || (p.kind == Kind::Folder && key.starts_with(&p.key)))
        {
            let how = if p.key == key { "is" } else { "contains" };
            return Err(refusal(
                program,
                p,
                format!(
                    "`{}` = {} {how} the input {}: writing it would destroy the input",
                    p.kind.key(),
                    p.path.display(),
                    input.display()
                ),
                "choose an output path that is not the spec or a data file, nor a folder holding one".into(),
            ));
        }
    }
    for p in &planned {
        let problem = match p.kind {
            Kind::Folder => replaceable_folder(&p.path).err(),
            Kind::Onnx | Kind::Certificate if p.path.is_dir() => {
                Some("a folder is there".to_string())
            }
            _ => None,
        };
        if let Some(problem) = problem {
            return Err(refusal(
                program,
                p,
                format!(
                    "cannot write `{}` = {}: {problem}",
                    p.kind.key(),
                    p.path.display()
                ),
                "robmem replaces only what it made: choose another path, or move it away yourself"
                    .into(),
            ));
        }
    }
    Ok(())
}

/// `Ok` when `dir` is free or a folder robmem made (it holds
/// [`FOLDER_MANIFEST`]); otherwise why robmem must not replace it.
pub(crate) fn replaceable_folder(dir: &Path) -> Result<(), String> {
    match dir.symlink_metadata() {
        Err(_) => Ok(()),
        Ok(meta) if !meta.is_dir() => Err("a file that robmem did not make is there".into()),
        Ok(_) if dir.join(FOLDER_MANIFEST).is_file() => Ok(()),
        Ok(_) => Err(format!(
            "a folder is there that robmem did not make (it has no {FOLDER_MANIFEST})"
        )),
    }
}

/// The files the run reads: the spec and every data file.
pub(crate) fn inputs(program: &Program) -> Vec<PathBuf> {
    let mut files = vec![program.path.clone()];
    for dataset in &program.datasets {
        match &dataset.source {
            DataSource::Csv { path, .. } => files.push(path.clone()),
            DataSource::Npy { features, labels } => {
                files.push(features.clone());
                files.push(labels.clone());
            }
            DataSource::Inline { .. } | DataSource::Generator(_) => {}
        }
    }
    files
}

fn refusal(program: &Program, at: &Planned, message: String, help: String) -> SpecError {
    program
        .error_at(at.span, "this emit block", message)
        .with_help(help)
        .with_category(Category::Io)
}

/// The 1-based line of a span's start.
fn line_of(program: &Program, span: SourceSpan) -> usize {
    let end = span.offset().min(program.source.len());
    program.source.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// `path` made absolute (against the current folder) with `.` and `..`
/// resolved lexically, and with the longest existing prefix resolved through
/// the file system (so symbolic links and `a/../b` agree with what the
/// operating system will do).
pub(crate) fn normalised(path: &Path) -> PathBuf {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(path)
    };
    let mut clean = PathBuf::new();
    for component in absolute.components() {
        match component {
            Component::ParentDir => {
                clean.pop();
            }
            Component::CurDir => {}
            other => clean.push(other),
        }
    }
    // Resolve the existing part through the file system.
    let mut existing = clean.clone();
    let mut rest = Vec::new();
    while !existing.exists() {
        match existing.file_name() {
            Some(name) => {
                rest.push(name.to_os_string());
                existing.pop();
            }
            None => break,
        }
    }
    let mut resolved = existing.canonicalize().unwrap_or(existing);
    for name in rest.into_iter().rev() {
        resolved.push(name);
    }
    resolved
}

/// Refuses (exit 2) a report page at `out` that is an input of the run,
/// a folder, or an existing file robmem did not write as a report (one
/// without [`crate::report::html::GENERATOR`] in its first kilobytes).
pub(crate) fn check_report_output(program: &Program, out: &Path) -> Result<(), SpecError> {
    let refuse = |why: String, help: &str| {
        Err(SpecError::new(format!(
            "refusing to write the report to {}: {why}",
            out.display()
        ))
        .with_help(help.to_string())
        .with_category(Category::Io))
    };
    let key = normalised(out);
    if let Some(input) = inputs(program).iter().find(|p| normalised(p) == key) {
        return refuse(
            format!("it is an input of the spec ({})", input.display()),
            "choose another file with --out FILE.html",
        );
    }
    if out.is_dir() {
        return refuse("it is a folder".into(), "name a file with --out FILE.html");
    }
    if out.exists() {
        let head = std::fs::read(out)
            .map(|b| String::from_utf8_lossy(&b[..b.len().min(4096)]).into_owned())
            .unwrap_or_default();
        if !head.contains(crate::report::html::GENERATOR) {
            return refuse(
                "a file is there that robmem did not write as a report".into(),
                "move that file away, or choose another file with --out FILE.html",
            );
        }
    }
    Ok(())
}
