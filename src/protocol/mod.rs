//! The wire vocabulary shared by `vfetchd` and `vfetchctl`. No I/O lives here.
//!
//! A connection opens with [`Hello`] / [`HelloReply`], whose shapes never change so that any two
//! versions can tell each other apart; after that every [`Request`] gets exactly one
//! [`Response`], except [`Request::Subscribe`], after which the daemon streams
//! [`Response::Event`]s until the client goes away.
//!
//! Split by concern: what a client asks ([`request`]), what the daemon answers ([`response`]),
//! what it streams to subscribers ([`event`]), and how any of it becomes bytes (`codec`). A
//! variant with more than one field wraps a small struct of its own, so a handler receives one
//! typed message rather than a bag of loose fields.

mod codec;
pub mod event;
pub mod request;
pub mod response;

use serde::{Deserialize, Serialize};

pub use codec::{decode, encode, CodecError};
pub use event::{BreakerChange, Event, Progress, RateLimited, Retry};
pub use request::{
    ConfigChange, ConfigSet, ExportPageQuery, ListQuery, Request, SetPriority, StatsQuery, Target,
    ThemesQuery,
};
pub use response::{
    Answer, ErrorKind, ExportPage, JobDetail, JobView, MediaFile, Response, RpcError, Setting,
    ShuttingDown, SourceStatus, StatusView, Subscribed, WebLogin,
};

/// Bumped whenever `Request`, `Response` or `Event` change shape.
pub const PROTOCOL_VERSION: u32 = 4;

/// Largest frame either side accepts; a bigger length prefix closes the connection.
pub const MAX_FRAME_BYTES: usize = 1 << 20;

/// The first frame a client sends. Its layout is frozen across versions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hello {
    pub protocol_version: u32,
    pub client_version: String,
}

/// The daemon's answer to [`Hello`]. Its layout is frozen across versions: existing variants
/// never change and new ones only ever go at the end, so every client from this version on can
/// read every refusal, and an older one fails to decode a newer variant instead of misreading it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum HelloReply {
    Welcome {
        protocol_version: u32,
        daemon_version: String,
    },
    VersionMismatch {
        daemon_protocol_version: u32,
        daemon_version: String,
        message: String,
    },
    /// Every connection the daemon allows is busy with a request or a subscription; `message`
    /// is one sentence for the user. The daemon closes the connection after sending it.
    Busy { message: String },
}
