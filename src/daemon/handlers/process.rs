//! The daemon's own process figures from `/proc/self`, under the names Prometheus client
//! libraries use (`process_*`), so the dashboards and alerts written for any exporter work.

/// What `/proc/self` says about this process.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessFigures {
    /// Resident set size, bytes.
    pub resident_bytes: u64,
    /// Virtual memory size, bytes.
    pub virtual_bytes: u64,
    /// User and system CPU time, seconds.
    pub cpu_seconds: f64,
    /// Open file descriptors.
    pub open_fds: u64,
    /// The soft limit on open file descriptors, if there is one.
    pub max_fds: Option<u64>,
    /// When the process started, seconds since the Unix epoch.
    pub start_time_seconds: f64,
}

/// Reads the figures; `None` where there is no `/proc` (then the metrics leave them out
/// rather than report zeros).
pub fn read() -> Option<ProcessFigures> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let boot_time = std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|s| parse_boot_time(&s))?;
    let open_fds = std::fs::read_dir("/proc/self/fd").ok()?.count() as u64;
    // SAFETY: sysconf and getrlimit only read process-wide values into what we pass.
    let (ticks, page_size, limit) = unsafe {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        let got = libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0;
        (
            libc::sysconf(libc::_SC_CLK_TCK),
            libc::sysconf(libc::_SC_PAGESIZE),
            got.then_some(limit.rlim_cur),
        )
    };
    let ticks = u64::try_from(ticks).ok().filter(|t| *t > 0)?;
    let page_size = u64::try_from(page_size).ok().filter(|p| *p > 0)?;
    let fields = parse_stat(&stat)?;
    Some(ProcessFigures {
        resident_bytes: fields.rss_pages.saturating_mul(page_size),
        virtual_bytes: fields.vsize,
        cpu_seconds: (fields.utime + fields.stime) as f64 / ticks as f64,
        open_fds,
        max_fds: limit.filter(|l| *l != libc::RLIM_INFINITY),
        start_time_seconds: boot_time as f64 + fields.start_ticks as f64 / ticks as f64,
    })
}

/// The fields of `/proc/self/stat` the figures need (see proc(5)).
#[derive(Debug, PartialEq)]
struct StatFields {
    utime: u64,
    stime: u64,
    start_ticks: u64,
    vsize: u64,
    rss_pages: u64,
}

/// Parses `/proc/PID/stat`. The command name (field 2) is in parentheses and may hold spaces
/// and parentheses itself, so the fields are counted from after its last `)`.
fn parse_stat(stat: &str) -> Option<StatFields> {
    let (_, rest) = stat.rsplit_once(')')?;
    // rest starts at field 3 (state); field N is at index N - 3.
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |n: usize| fields.get(n - 3).and_then(|f| f.parse::<u64>().ok());
    Some(StatFields {
        utime: field(14)?,
        stime: field(15)?,
        start_ticks: field(22)?,
        vsize: field(23)?,
        rss_pages: field(24)?,
    })
}

/// The boot time (`btime`, seconds since the epoch) from `/proc/stat`.
fn parse_boot_time(proc_stat: &str) -> Option<u64> {
    proc_stat
        .lines()
        .find_map(|l| l.strip_prefix("btime "))
        .and_then(|v| v.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_after_the_command_name() {
        // A command name with a space and a parenthesis must not shift the fields.
        let stat = "4242 (vfetch d) x) S 1 4242 4242 0 -1 4194560 1200 0 0 0 \
                    150 30 0 0 20 0 9 0 987654 123456789 3000 18446744073709551615";
        assert_eq!(
            parse_stat(stat),
            Some(StatFields {
                utime: 150,
                stime: 30,
                start_ticks: 987654,
                vsize: 123456789,
                rss_pages: 3000,
            })
        );
        assert_eq!(parse_stat("4242 (short) S 1"), None);
    }

    #[test]
    fn boot_time_comes_from_btime() {
        let text = "cpu  1 2 3\nintr 5\nbtime 1764000000\nprocesses 9\n";
        assert_eq!(parse_boot_time(text), Some(1_764_000_000));
        assert_eq!(parse_boot_time("cpu 1\n"), None);
    }

    #[test]
    fn this_process_has_figures() {
        let figures = read().expect("/proc/self on Linux");
        assert!(figures.resident_bytes > 0 && figures.virtual_bytes >= figures.resident_bytes);
        assert!(figures.open_fds >= 3, "{figures:?}");
        assert!(figures.start_time_seconds > 1_000_000_000.0, "{figures:?}");
    }
}
