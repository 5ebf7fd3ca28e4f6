//! The scenario context: every size the scenarios use (full or `--smoke`), the work dir,
//! the repetition count and the tokio runtime.

use std::path::PathBuf;
use std::time::Duration;

use crate::util::MIB;

/// Every size the scenarios use; `--smoke` shrinks them so the whole run takes seconds.
pub(crate) struct Sizes {
    pub(crate) bulk_files: usize,
    pub(crate) bulk_file_bytes: u64,
    pub(crate) ceiling_bytes: u64,
    pub(crate) mem_levels: Vec<u32>,
    pub(crate) mem_rate: u64,
    pub(crate) mem_window: Duration,
    pub(crate) fanout_latency: Duration,
    pub(crate) status_runs: usize,
    pub(crate) rpc_window: Duration,
    pub(crate) rpc_downloads: u32,
    pub(crate) rpc_conns: usize,
    pub(crate) queue_jobs: u32,
    pub(crate) queue_per_job: u32,
    pub(crate) queue_api_cap: Duration,
    pub(crate) resume_bytes: u64,
    pub(crate) resume_rate: u64,
    pub(crate) http_jobs: u32,
    pub(crate) http_requests: usize,
}

impl Sizes {
    pub(crate) fn new(smoke: bool) -> Sizes {
        if smoke {
            Sizes {
                bulk_files: 10,
                bulk_file_bytes: 256 << 10,
                ceiling_bytes: 16 * MIB,
                mem_levels: vec![10, 32],
                mem_rate: 256 << 10,
                mem_window: Duration::from_millis(600),
                fanout_latency: Duration::from_millis(300),
                status_runs: 10,
                rpc_window: Duration::from_millis(300),
                rpc_downloads: 20,
                rpc_conns: 50,
                queue_jobs: 20,
                queue_per_job: 100,
                queue_api_cap: Duration::from_secs(20),
                resume_bytes: 16 * MIB,
                resume_rate: 4 * MIB,
                http_jobs: 200,
                http_requests: 20,
            }
        } else {
            Sizes {
                bulk_files: 200,
                bulk_file_bytes: 8 * MIB,
                ceiling_bytes: 1024 * MIB,
                mem_levels: vec![10, 32],
                mem_rate: MIB,
                mem_window: Duration::from_secs(3),
                fanout_latency: Duration::from_millis(300),
                status_runs: 200,
                rpc_window: Duration::from_secs(2),
                rpc_downloads: 20,
                rpc_conns: 50,
                queue_jobs: 1000,
                queue_per_job: 100,
                queue_api_cap: Duration::from_secs(180),
                resume_bytes: 512 * MIB,
                resume_rate: 64 * MIB,
                http_jobs: 10_000,
                http_requests: 200,
            }
        }
    }
}

pub(crate) struct Ctx {
    pub(crate) smoke: bool,
    pub(crate) root: PathBuf,
    pub(crate) sizes: Sizes,
    pub(crate) reps: usize,
    pub(crate) rt: tokio::runtime::Runtime,
}
