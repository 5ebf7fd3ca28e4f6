//! Process limits the daemon sets for itself at start.

/// Raises the soft limit on open files to the hard limit. Each client connection, download and
/// database handle takes a descriptor, and the usual soft limit of 1024 is far below what the
/// hard limit (often 512K) allows; `max_connections` then bounds the clients within it.
pub fn raise_open_files() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes only into the struct we pass, which lives for the call.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        tracing::debug!(error = %std::io::Error::last_os_error(), "cannot read the open-files limit");
        return;
    }
    if limit.rlim_cur >= limit.rlim_max {
        tracing::debug!(
            limit = limit.rlim_cur,
            "open-files limit already at its maximum"
        );
        return;
    }
    let before = limit.rlim_cur;
    limit.rlim_cur = limit.rlim_max;
    // SAFETY: setrlimit reads only the struct we pass; raising the soft limit up to the hard one
    // needs no privilege.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } == 0 {
        tracing::debug!(
            from = before,
            to = limit.rlim_cur,
            "raised the open-files limit"
        );
    } else {
        tracing::debug!(error = %std::io::Error::last_os_error(), "cannot raise the open-files limit");
    }
}
