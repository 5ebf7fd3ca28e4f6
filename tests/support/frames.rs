//! Raw socket access for protocol abuse tests: frames written by hand, not by the client.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use vfetch::protocol::{self, Hello, HelloReply, Response, PROTOCOL_VERSION};

/// A raw connection with a read timeout so a test never hangs.
pub fn connect(socket: &Path) -> UnixStream {
    let stream = UnixStream::connect(socket).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(15)))
        .expect("timeout");
    stream
}

/// Writes one length-prefixed frame.
pub fn write_frame(stream: &mut UnixStream, payload: &[u8]) {
    let len = u32::try_from(payload.len()).expect("small frame");
    stream.write_all(&len.to_be_bytes()).expect("write length");
    stream.write_all(payload).expect("write payload");
}

/// Reads one frame; `None` if the daemon closed the connection.
pub fn read_frame(stream: &mut UnixStream) -> Option<Vec<u8>> {
    let mut len = [0u8; 4];
    stream.read_exact(&mut len).ok()?;
    let mut payload = vec![0u8; u32::from_be_bytes(len) as usize];
    stream.read_exact(&mut payload).ok()?;
    Some(payload)
}

/// Whether the daemon has closed its end (reads EOF or an error).
pub fn is_closed(stream: &mut UnixStream) -> bool {
    let mut rest = Vec::new();
    match stream.read_to_end(&mut rest) {
        Ok(_) => true,
        Err(e) => matches!(
            e.kind(),
            std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::BrokenPipe
        ),
    }
}

/// Connects and completes a valid handshake.
pub fn handshake(socket: &Path) -> UnixStream {
    let mut stream = connect(socket);
    let hello = Hello {
        protocol_version: PROTOCOL_VERSION,
        client_version: "test".into(),
    };
    write_frame(&mut stream, &protocol::encode(&hello).expect("encode"));
    let reply: HelloReply =
        protocol::decode(&read_frame(&mut stream).expect("welcome")).expect("decode");
    assert!(matches!(reply, HelloReply::Welcome { .. }), "{reply:?}");
    stream
}

/// Reads a frame and decodes it as a response.
pub fn read_response(stream: &mut UnixStream) -> Option<Response> {
    read_frame(stream).map(|f| protocol::decode(&f).expect("decode response"))
}
