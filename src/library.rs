//! The finished-video library: `<library>/<theme-slug>/<source>-<source-id>.<ext>`.
//!
//! Every path part is built from sanitised text, so nothing a provider sends (ids with `../`, `/`,
//! NUL, or thousands of characters) can name a file outside the library; an existing different
//! file is never overwritten.

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::source_kind::SourceKind;

const MAX_SLUG: usize = 60;
const MAX_ID: usize = 80;

/// A theme as a directory name: lower-case letters, digits and dashes ("Sunset Timelapse!" →
/// "sunset-timelapse"); non-ASCII letters are kept, path syntax never is.
pub fn slug(theme: &str) -> String {
    let s = clean(&theme.to_lowercase(), MAX_SLUG, false);
    if s.is_empty() {
        "untitled".to_string()
    } else {
        s
    }
}

/// `<source>-<sanitised id>.<ext>`; an id with nothing usable left is replaced by its hash.
/// An id that is itself a file name (Wikimedia's "Sunset.webm") loses its video extension, so
/// the file has exactly one: `ext`, which follows the actual content type.
pub fn file_name(source: SourceKind, source_id: &str, ext: &str) -> String {
    let mut id = clean(without_video_extension(source_id), MAX_ID, true);
    if id.is_empty() || id.len() < source_id.len() / 4 {
        // Mostly unusable characters: the hash keeps distinct ids distinct.
        id = hex::encode(&Sha256::digest(source_id.as_bytes())[..8]);
    }
    format!("{source}-{id}.{ext}")
}

/// `source_id` without a trailing video extension (any case), if it has a stem before it.
fn without_video_extension(source_id: &str) -> &str {
    match source_id.rsplit_once('.') {
        Some((stem, ext))
            if !stem.is_empty()
                && VIDEO_EXTENSIONS
                    .iter()
                    .any(|known| ext.eq_ignore_ascii_case(known)) =>
        {
            stem
        }
        _ => source_id,
    }
}

/// Extensions a provider's id may end with that name a video container.
const VIDEO_EXTENSIONS: [&str; 9] = [
    "mp4", "webm", "ogv", "ogg", "mkv", "mov", "mpg", "mpeg", "m4v",
];

/// Keeps letters, digits and (when `dots`) inner dots; everything else becomes one dash.
fn clean(text: &str, max: usize, dots: bool) -> String {
    let mut out = String::new();
    for c in text.chars() {
        let keep = c.is_alphanumeric() && !c.is_control() || (dots && c == '.') || c == '_';
        if keep {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
        if out.chars().count() >= max {
            break;
        }
    }
    // No leading dots (hidden files, "..") and no dangling separators.
    out.trim_matches(|c| c == '-' || c == '.' || c == '_')
        .to_string()
}

/// The file extension for a video: from its MIME type, else from the URL when it is a known
/// video extension, else `mp4`.
pub fn extension(mime: Option<&str>, url: &str) -> &'static str {
    const KNOWN: [(&str, &str); 6] = [
        ("video/mp4", "mp4"),
        ("video/webm", "webm"),
        ("video/ogg", "ogv"),
        ("video/x-matroska", "mkv"),
        ("video/quicktime", "mov"),
        ("video/mpeg", "mpg"),
    ];
    if let Some(ext) = mime.and_then(|m| KNOWN.iter().find(|(k, _)| m.eq_ignore_ascii_case(k))) {
        return ext.1;
    }
    let path = url.split(['?', '#']).next().unwrap_or("");
    let from_url = path.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    KNOWN
        .iter()
        .map(|(_, e)| *e)
        .find(|e| *e == from_url)
        .unwrap_or("mp4")
}

/// Moves a finished `.part` into the library without ever replacing a different file.
///
/// If the target name is taken by a file with the same content (a crash between rename and
/// bookkeeping leaves exactly that), it is adopted; otherwise `-2`, `-3`, … are tried.
pub fn place(
    part: &Path,
    library: &Path,
    theme: &str,
    name: &str,
    sha256: &str,
) -> io::Result<PathBuf> {
    let dir = library.join(slug(theme));
    fs::create_dir_all(&dir)?;
    let (stem, ext) = name.rsplit_once('.').unwrap_or((name, "mp4"));
    for n in 1..1000 {
        let target = if n == 1 {
            dir.join(name)
        } else {
            dir.join(format!("{stem}-{n}.{ext}"))
        };
        // A hard link fails if the name exists, so this is an atomic "rename unless taken".
        match link_or_copy(part, &target, &dir) {
            Ok(()) => {
                fs::remove_file(part)?;
                File::open(&dir)?.sync_all()?;
                return Ok(target);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                if sha256_of(&target)? == sha256 {
                    fs::remove_file(part)?;
                    return Ok(target);
                }
            }
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other(format!(
        "no free name for {name} in {}",
        dir.display()
    )))
}

/// Links `part` at `target` (no clobber); across filesystems, copies to a temporary name in the
/// target directory first (synced), then links that.
fn link_or_copy(part: &Path, target: &Path, dir: &Path) -> io::Result<()> {
    match fs::hard_link(part, target) {
        Err(e) if e.kind() == io::ErrorKind::CrossesDevices => {
            let temporary = dir.join(format!(".vfetch-{}.tmp", std::process::id()));
            fs::copy(part, &temporary)?;
            File::open(&temporary)?.sync_all()?;
            let linked = fs::hard_link(&temporary, target);
            fs::remove_file(&temporary)?;
            linked
        }
        other => other,
    }
}

/// SHA-256 of a file on disk, hex.
pub fn sha256_of(path: &Path) -> io::Result<String> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_ids_stay_inside_the_library() {
        let hostile = [
            "../../etc/passwd",
            "/absolute/path",
            "a\0b",
            "..",
            ".",
            "",
            "..\\..\\windows",
            &"x".repeat(5000),
            "File:Sunset over hills.webm",
        ];
        let dir = tempfile::tempdir().unwrap();
        let library = dir.path().join("library");
        for (i, id) in hostile.iter().enumerate() {
            let name = file_name(SourceKind::Wikimedia, id, "webm");
            assert!(
                !name.contains('/') && !name.contains('\0') && !name.starts_with('.'),
                "{name}"
            );
            assert!(name.len() < 120, "{name}");
            let part = dir.path().join(format!("{i}.part"));
            fs::write(&part, id.as_bytes()).unwrap();
            let placed = place(
                &part,
                &library,
                "../../../tmp",
                &name,
                &sha256_of(&part).unwrap(),
            )
            .unwrap();
            let placed = placed.canonicalize().unwrap();
            assert!(
                placed.starts_with(library.canonicalize().unwrap()),
                "{placed:?} escaped"
            );
        }
    }

    #[test]
    fn file_names_carry_one_extension() {
        let name = |id: &str, ext: &str| file_name(SourceKind::Wikimedia, id, ext);
        assert_eq!(
            name("Sunset over hills.mp4", "mp4"),
            "wikimedia-Sunset-over-hills.mp4"
        );
        // The content type decides; the id's claim is dropped, whatever its case.
        assert_eq!(name("Clip.OGV", "webm"), "wikimedia-Clip.webm");
        assert_eq!(name("v1.2.webm", "webm"), "wikimedia-v1.2.webm");
        // Ids that are not file names keep every part.
        assert_eq!(
            file_name(SourceKind::Pexels, "3015510", "mp4"),
            "pexels-3015510.mp4"
        );
        assert_eq!(name("notes.txt", "mp4"), "wikimedia-notes.txt.mp4");
        assert_eq!(name(".mp4", "mp4"), "wikimedia-mp4.mp4");
    }

    #[test]
    fn slugs_are_readable() {
        assert_eq!(slug("Sunset Timelapse!"), "sunset-timelapse");
        assert_eq!(slug("../.."), "untitled");
        assert_eq!(slug("Straße über Köln"), "straße-über-köln");
    }

    #[test]
    fn existing_files_are_never_overwritten_but_identical_ones_are_adopted() {
        let dir = tempfile::tempdir().unwrap();
        let library = dir.path().join("lib");
        let write = |name: &str, data: &[u8]| {
            let p = dir.path().join(name);
            fs::write(&p, data).unwrap();
            p
        };
        let a = write("a.part", b"one");
        let first = place(&a, &library, "t", "x.mp4", &sha256_of(&a).unwrap()).unwrap();
        let b = write("b.part", b"two");
        let second = place(&b, &library, "t", "x.mp4", &sha256_of(&b).unwrap()).unwrap();
        assert_ne!(first, second);
        assert_eq!(fs::read(&first).unwrap(), b"one");
        let c = write("c.part", b"one");
        let third = place(&c, &library, "t", "x.mp4", &sha256_of(&c).unwrap()).unwrap();
        assert_eq!(third, first);
        assert!(!c.exists());
    }

    #[test]
    fn extensions_come_from_mime_then_url() {
        assert_eq!(extension(Some("video/webm"), "https://x/y"), "webm");
        assert_eq!(extension(None, "https://x/y.MKV?a=1"), "mkv");
        assert_eq!(extension(None, "https://x/y.exe"), "mp4");
    }
}
