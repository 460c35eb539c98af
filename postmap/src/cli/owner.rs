//! Building as the owner of the source: when root runs postmap on a file
//! owned by someone else, Postfix switches its effective user and group
//! ids to the file's owner first (`set_eugid`), so that the table gets
//! that owner and a bug in the parser cannot be used to write as root.
//! `-o` keeps root. The process is single-threaded, so changing its ids
//! affects nothing but itself.

use std::fs::Metadata;
use std::os::unix::fs::MetadataExt;

use nix::unistd::{Gid, Uid, getegid, geteuid, getuid, setegid, seteuid, setgroups};

use super::diag::{Fatal, fatal};

/// Switch to the owner of the file `meta` describes when the real user is
/// root and the effective ids differ from the owner's.
pub(crate) fn become_owner(meta: &Metadata) -> Result<(), Fatal> {
    let (uid, gid) = (Uid::from_raw(meta.uid()), Gid::from_raw(meta.gid()));
    if !getuid().is_root() || (uid == geteuid() && gid == getegid()) {
        return Ok(());
    }
    set_eugid(uid, gid)
}

/// Postfix `set_eugid()`, with its error texts.
fn set_eugid(uid: Uid, gid: Gid) -> Result<(), Fatal> {
    let failed =
        |call: String| move |e: nix::Error| fatal(format!("set_eugid: {call}: {}", e.desc()));
    if !geteuid().is_root() {
        seteuid(Uid::from_raw(0)).map_err(failed("seteuid(0)".into()))?;
    }
    setegid(gid).map_err(failed(format!("setegid({gid})")))?;
    setgroups(&[gid]).map_err(failed(format!("setgroups({gid})")))?;
    if !uid.is_root() {
        seteuid(uid).map_err(failed(format!("seteuid({uid})")))?;
    }
    Ok(())
}
