//! Self-test of the fake provider server used by the end-to-end tests.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::fake_provider::{
    fixtures, md5_hex, sha1_hex, sha256_hex, FakeProvider, Fault, FaultRule, Source,
};
use serde_json::Value;

/// A response as read off the wire by a minimal client.
#[derive(Debug)]
struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// How the read ended, if not with a clean EOF.
    error: Option<ErrorKind>,
    elapsed: Duration,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "invalid JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One HTTP/1.1 request over a fresh connection; reads until EOF, error or `timeout` of silence.
fn request(method: &str, url: &str, headers: &[(&str, &str)], timeout: Duration) -> Resp {
    let parsed = url::Url::parse(url).expect("absolute URL");
    let addr = format!(
        "{}:{}",
        parsed.host_str().unwrap(),
        parsed.port_or_known_default().unwrap()
    );
    let mut target = parsed.path().to_string();
    if let Some(q) = parsed.query() {
        target.push('?');
        target.push_str(q);
    }
    let started = Instant::now();
    let mut stream = TcpStream::connect(&addr).expect("connect");
    stream.set_read_timeout(Some(timeout)).unwrap();
    let mut head = format!("{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (n, v) in headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    let error = loop {
        match stream.read(&mut buf) {
            Ok(0) => break None,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => break Some(e.kind()),
        }
    };
    let elapsed = started.elapsed();
    let Some(split) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Resp {
            status: 0,
            headers: Vec::new(),
            body: raw,
            error,
            elapsed,
        };
    };
    let head = String::from_utf8(raw[..split].to_vec()).unwrap();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .map(|l| {
            let (n, v) = l.split_once(':').unwrap();
            (n.trim().to_string(), v.trim().to_string())
        })
        .collect();
    Resp {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
        error,
        elapsed,
    }
}

fn get(url: &str, headers: &[(&str, &str)]) -> Resp {
    request("GET", url, headers, Duration::from_secs(5))
}

fn pexels(fp: &FakeProvider, query: &str) -> Resp {
    get(
        &format!("{}/videos/search?{query}", fp.base_url()),
        &[("Authorization", fp.api_key(Source::Pexels))],
    )
}

#[test]
fn fixtures_are_small_distinct_real_videos() {
    let all = fixtures();
    assert!(all.len() >= 8, "only {} fixtures", all.len());
    let mut hashes: Vec<String> = all.iter().map(|f| sha256_hex(&f.data)).collect();
    hashes.sort();
    hashes.dedup();
    assert_eq!(hashes.len(), all.len(), "fixtures must be distinct");
    let total: usize = all.iter().map(|f| f.data.len()).sum();
    assert!(total < 500 * 1024, "fixtures too big: {total} bytes");
    for f in &all {
        assert!(f.data.len() < 100 * 1024, "{} is too big", f.name);
        match f.ext.as_str() {
            "mp4" => assert_eq!(&f.data[4..8], b"ftyp", "{} is not an MP4", f.name),
            "webm" => assert_eq!(
                &f.data[..4],
                &[0x1A, 0x45, 0xDF, 0xA3],
                "{} not EBML",
                f.name
            ),
            other => panic!("unexpected extension {other}"),
        }
        assert!((1.0..=6.0).contains(&f.duration), "{}", f.name);
    }
    for (w, h) in [(320, 180), (180, 320), (240, 240), (640, 360)] {
        assert!(
            all.iter().any(|f| f.width == w && f.height == h),
            "no {w}x{h} fixture"
        );
    }
    assert!(all.iter().any(|f| f.ext == "webm"));
    // The names must tell the truth (checked with ffprobe when it is installed).
    for f in &all {
        let Ok(out) = Command::new("ffprobe")
            .args(["-v", "error", "-select_streams", "v:0"])
            .args([
                "-show_entries",
                "stream=width,height,r_frame_rate:format=duration",
            ])
            .args(["-of", "default=noprint_wrappers=1"])
            .arg(&f.path)
            .output()
        else {
            return;
        };
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains(&format!("width={}", f.width)),
            "{}: {text}",
            f.name
        );
        assert!(
            text.contains(&format!("height={}", f.height)),
            "{}: {text}",
            f.name
        );
        assert!(
            text.contains(&format!("r_frame_rate={}/1", f.fps)),
            "{}: {text}",
            f.name
        );
        let dur: f64 = text
            .lines()
            .find_map(|l| l.strip_prefix("duration="))
            .unwrap()
            .parse()
            .unwrap();
        assert!((dur - f.duration).abs() < 0.1, "{}: {dur}", f.name);
    }
}

#[test]
fn checksums_match_reference_implementations() {
    assert_eq!(sha1_hex(b""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    assert_eq!(sha1_hex(b"abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
    assert_eq!(md5_hex(b""), "d41d8cd98f00b204e9800998ecf8427e");
    assert_eq!(md5_hex(b"abc"), "900150983cd24fb0d6963f7d28e17f72");
    for f in fixtures() {
        for (tool, ours) in [("sha1sum", sha1_hex(&f.data)), ("md5sum", md5_hex(&f.data))] {
            let Ok(out) = Command::new(tool).arg(&f.path).output() else {
                continue;
            };
            let theirs = String::from_utf8_lossy(&out.stdout);
            assert_eq!(
                theirs.split_whitespace().next(),
                Some(ours.as_str()),
                "{tool} {}",
                f.name
            );
        }
    }
    // Lengths around the padding boundaries, against coreutils.
    for len in [55usize, 56, 57, 63, 64, 65, 119, 120] {
        let data: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
        for (tool, ours) in [("sha1sum", sha1_hex(&data)), ("md5sum", md5_hex(&data))] {
            let Ok(mut child) = Command::new(tool)
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .spawn()
            else {
                continue;
            };
            child.stdin.take().unwrap().write_all(&data).unwrap();
            let out = child.wait_with_output().unwrap();
            let theirs = String::from_utf8_lossy(&out.stdout);
            assert_eq!(
                theirs.split_whitespace().next(),
                Some(ours.as_str()),
                "{tool} {len}"
            );
        }
    }
}

#[test]
fn pexels_search_pages_filters_and_serves_files() {
    let fp = FakeProvider::start();
    let videos = fp.add_fixtures(Source::Pexels, "sunset", 10);
    fp.add_fixtures(Source::Pixabay, "sunset", 2); // other sources never leak in

    let base = fp.base_url();
    let denied = get(&format!("{base}/videos/search?query=sunset"), &[]);
    assert_eq!(denied.status, 401);
    let wrong = get(
        &format!("{base}/videos/search?query=sunset"),
        &[("Authorization", "Bearer nope")],
    );
    assert_eq!(wrong.status, 401);

    let r = pexels(&fp, "query=Sunset&per_page=4&page=1");
    assert_eq!(r.status, 200);
    assert!(r.header("X-Ratelimit-Remaining").is_some());
    let j = r.json();
    assert_eq!(j["page"], 1);
    assert_eq!(j["per_page"], 4);
    assert_eq!(j["total_results"], 10);
    assert!(j.get("prev_page").is_none());
    let listed = j["videos"].as_array().unwrap();
    assert_eq!(listed.len(), 4);
    let first = &listed[0];
    let v = &videos[0];
    assert_eq!(first["id"].as_u64().unwrap().to_string(), v.id);
    assert_eq!(first["width"], v.width);
    assert_eq!(first["height"], v.height);
    assert_eq!(first["duration"], v.duration.round() as u64);
    assert!(first["url"]
        .as_str()
        .unwrap()
        .ends_with(&format!("-{}/", v.id)));
    assert!(first["image"].is_string());
    assert_eq!(first["user"]["name"], v.author.as_str());
    assert!(first["user"]["id"].is_u64() && first["user"]["url"].is_string());
    assert!(first["video_pictures"][0]["picture"].is_string());
    let files = first["video_files"].as_array().unwrap();
    let hls = files.iter().find(|f| f["quality"] == "hls").expect("hls");
    assert_eq!(hls["file_type"], "application/x-mpegURL");
    assert!(hls["width"].is_null() && hls["height"].is_null() && hls["fps"].is_null());
    let real = files
        .iter()
        .find(|f| f["quality"] == "sd")
        .expect("sd file");
    assert_eq!(real["file_type"], v.mime.as_str());
    assert_eq!(real["fps"].as_f64(), Some(v.fps));
    assert_eq!(real["link"], fp.file_url(v).as_str());
    let file = get(real["link"].as_str().unwrap(), &[]);
    assert_eq!(file.status, 200);
    assert_eq!(file.header("Content-Type"), Some(v.mime.as_str()));
    assert_eq!(file.body, v.data);

    // next_page is an absolute URL that works here.
    let next = j["next_page"].as_str().expect("next_page");
    assert!(next.starts_with(&base));
    let r2 = get(next, &[("Authorization", fp.api_key(Source::Pexels))]).json();
    assert_eq!(r2["page"], 2);
    assert_eq!(
        r2["videos"][0]["id"].as_u64().unwrap().to_string(),
        videos[4].id
    );
    let last = pexels(&fp, "query=sunset&per_page=4&page=3").json();
    assert_eq!(last["videos"].as_array().unwrap().len(), 2);
    assert!(last.get("next_page").is_none());
    assert!(last["prev_page"].is_string());

    let count = |o: &str| {
        pexels(&fp, &format!("query=sunset&per_page=80&orientation={o}")).json()["total_results"]
            .as_u64()
            .unwrap()
    };
    let want =
        |f: fn(u32, u32) -> bool| videos.iter().filter(|v| f(v.width, v.height)).count() as u64;
    assert_eq!(count("landscape"), want(|w, h| w > h));
    assert_eq!(count("portrait"), want(|w, h| h > w));
    assert_eq!(count("square"), want(|w, h| w == h));

    let none = pexels(&fp, "query=sunset+zebra").json();
    assert_eq!(none["total_results"], 0);
    assert_eq!(none["videos"].as_array().unwrap().len(), 0);

    let one = get(
        &format!("{base}/videos/videos/{}", v.id),
        &[("Authorization", fp.api_key(Source::Pexels))],
    );
    assert_eq!(one.json()["id"].as_u64().unwrap().to_string(), v.id);
}

#[test]
fn pixabay_search_matches_documented_shape() {
    let fp = FakeProvider::start();
    let videos = fp.add_fixtures(Source::Pixabay, "ocean waves", 10);
    let base = fp.base_url();
    let key = fp.api_key(Source::Pixabay);

    let bad = get(&format!("{base}/api/videos/?q=ocean"), &[]);
    assert_eq!(bad.status, 400);
    assert_eq!(bad.text(), "[ERROR 400] Invalid or missing API key");
    let wrong = get(&format!("{base}/api/videos/?key=x&q=ocean"), &[]);
    assert_eq!(wrong.status, 400);

    let r = get(
        &format!("{base}/api/videos/?key={key}&q=ocean+waves&per_page=3&page=1"),
        &[],
    );
    assert_eq!(r.status, 200);
    let j = r.json();
    assert_eq!(j["total"], 10);
    assert_eq!(j["totalHits"], 10);
    let hit = &j["hits"][0];
    let v = &videos[0];
    assert_eq!(hit["id"].as_u64().unwrap().to_string(), v.id);
    assert_eq!(hit["type"], "film");
    assert_eq!(hit["tags"], v.tags.join(", ").as_str());
    assert!(hit["tags"].as_str().unwrap().contains(", "));
    assert_eq!(hit["duration"], v.duration.round() as u64);
    for field in ["pageURL", "user", "userImageURL"] {
        assert!(hit[field].is_string(), "{field}");
    }
    for field in ["views", "downloads", "likes", "comments", "user_id"] {
        assert!(hit[field].is_u64(), "{field}");
    }
    // 320 wide: the file sits in "tiny"; the rest are the documented empty form.
    assert_eq!(hit["videos"]["tiny"]["url"], fp.file_url(v).as_str());
    assert_eq!(hit["videos"]["tiny"]["size"], v.data.len());
    assert_eq!(hit["videos"]["tiny"]["width"], v.width);
    for slot in ["large", "medium", "small"] {
        assert_eq!(
            hit["videos"][slot],
            serde_json::json!({"url":"","width":0,"height":0,"size":0,"thumbnail":""})
        );
    }
    assert_eq!(
        get(hit["videos"]["tiny"]["url"].as_str().unwrap(), &[]).body,
        v.data
    );

    let wide = get(
        &format!("{base}/api/videos/?key={key}&q=ocean&min_width=600"),
        &[],
    )
    .json();
    assert_eq!(wide["totalHits"], 1);
    let big = &wide["hits"][0]["videos"];
    assert_eq!(big["small"]["width"], 640);
    assert_eq!(big["tiny"]["url"], "");
    let tall = get(
        &format!("{base}/api/videos/?key={key}&q=ocean&min_height=300"),
        &[],
    )
    .json();
    assert!(tall["hits"].as_array().unwrap().iter().all(|h| {
        ["large", "medium", "small", "tiny"]
            .iter()
            .any(|s| h["videos"][s]["height"].as_u64().unwrap() >= 300)
    }));

    let page4 = get(
        &format!("{base}/api/videos/?key={key}&q=ocean&per_page=3&page=4"),
        &[],
    );
    assert_eq!(page4.json()["hits"].as_array().unwrap().len(), 1);
    let page5 = get(
        &format!("{base}/api/videos/?key={key}&q=ocean&per_page=3&page=5"),
        &[],
    );
    assert_eq!(page5.status, 400);
    assert!(page5.text().contains("\"page\" is out of valid range"));
    let small = get(
        &format!("{base}/api/videos/?key={key}&q=ocean&per_page=2"),
        &[],
    );
    assert_eq!(small.status, 400);
    let none = get(&format!("{base}/api/videos/?key={key}&q=desert"), &[]).json();
    assert_eq!(none, serde_json::json!({"total":0,"totalHits":0,"hits":[]}));
}

#[test]
fn wikimedia_search_lists_real_sha1_and_continues() {
    let fp = FakeProvider::start();
    let videos = fp.add_fixtures(Source::Wikimedia, "forest", 5);
    let base = fp.base_url();
    let url = |extra: &str| {
        format!(
            "{base}/w/api.php?action=query&format=json&formatversion=2&generator=search\
             &gsrsearch=forest%20filetype%3Avideo&gsrnamespace=6&prop=imageinfo\
             &iiprop=url%7Csize%7Cmime%7Cmediatype%7Csha1%7Cextmetadata{extra}"
        )
    };
    let j = get(&url("&gsrlimit=3"), &[]).json();
    assert_eq!(j["batchcomplete"], true);
    assert_eq!(j["continue"]["gsroffset"], 3);
    assert_eq!(j["continue"]["continue"], "gsroffset||");
    let pages = j["query"]["pages"].as_array().unwrap();
    assert_eq!(pages.len(), 3);
    for (i, page) in pages.iter().enumerate() {
        let v = &videos[i];
        assert_eq!(page["ns"], 6);
        assert_eq!(page["index"], i + 1);
        assert!(page["pageid"].is_u64());
        assert_eq!(page["title"], format!("File:{}", v.id).as_str());
        let info = &page["imageinfo"][0];
        assert_eq!(info["size"], v.data.len());
        assert_eq!(info["width"], v.width);
        assert_eq!(info["height"], v.height);
        assert_eq!(info["duration"].as_f64(), Some(v.duration));
        assert_eq!(info["mime"], v.mime.as_str());
        assert_eq!(info["mediatype"], "VIDEO");
        assert!(info["descriptionurl"].as_str().unwrap().starts_with(&base));
        let meta = &info["extmetadata"];
        assert_eq!(meta["LicenseShortName"]["value"], "CC BY-SA 4.0");
        assert_eq!(
            meta["LicenseUrl"]["value"],
            "https://creativecommons.org/licenses/by-sa/4.0/"
        );
        assert!(meta["Artist"]["value"]
            .as_str()
            .unwrap()
            .starts_with("<a href=\"//commons.wikimedia.org/wiki/User:"));
        let file = get(info["url"].as_str().unwrap(), &[]);
        assert_eq!(file.status, 200);
        assert_eq!(info["sha1"], sha1_hex(&file.body).as_str());
        assert_eq!(file.body, v.data);
    }
    let rest = get(&url("&gsrlimit=3&gsroffset=3"), &[]).json();
    assert!(rest.get("continue").is_none());
    assert_eq!(rest["query"]["pages"].as_array().unwrap().len(), 2);
    assert_eq!(rest["query"]["pages"][0]["index"], 4);

    let none = get(
        &format!(
            "{base}/w/api.php?action=query&format=json&formatversion=2&generator=search\
             &gsrsearch=volcano%20filetype%3Avideo&gsrnamespace=6&prop=imageinfo&iiprop=url"
        ),
        &[],
    )
    .json();
    assert_eq!(none, serde_json::json!({"batchcomplete": true}));
}

#[test]
fn archive_search_metadata_and_download_redirect() {
    let fp = FakeProvider::start();
    let videos = fp.add_fixtures(Source::Archive, "city night", 3);
    let base = fp.base_url();
    let search = |rows: u32, page: u32| {
        get(
            &format!(
                "{base}/advancedsearch.php?q=%28city%20night%29%20AND%20mediatype%3A%28movies%29\
                 &fl%5B%5D=identifier&fl%5B%5D=title&fl%5B%5D=creator&fl%5B%5D=licenseurl\
                 &rows={rows}&page={page}&output=json"
            ),
            &[],
        )
        .json()
    };
    let j = search(2, 1);
    assert_eq!(j["responseHeader"]["status"], 0);
    assert_eq!(j["response"]["numFound"], 3);
    assert_eq!(j["response"]["start"], 0);
    let doc = &j["response"]["docs"][0];
    assert_eq!(doc["identifier"], videos[0].id.as_str());
    assert_eq!(doc["title"], videos[0].title.as_str());
    assert_eq!(doc["creator"], videos[0].author.as_str());
    assert_eq!(
        doc["licenseurl"],
        "https://creativecommons.org/licenses/by/4.0/"
    );
    let p2 = search(2, 2);
    assert_eq!(p2["response"]["start"], 2);
    assert_eq!(
        p2["response"]["docs"][0]["identifier"],
        videos[2].id.as_str()
    );

    let v = &videos[1];
    let meta = get(&format!("{base}/metadata/{}", v.id), &[]).json();
    assert_eq!(meta["metadata"]["identifier"], v.id.as_str());
    assert_eq!(meta["metadata"]["mediatype"], "movies");
    let files = meta["files"].as_array().unwrap();
    for skip in ["Item Tile", "Metadata", "Archive BitTorrent"] {
        assert!(files.iter().any(|f| f["format"] == skip), "{skip}");
    }
    let name = format!("{}.{}", v.id, v.ext);
    let file = files.iter().find(|f| f["name"] == name.as_str()).unwrap();
    assert_eq!(file["source"], "original");
    assert_eq!(
        file["format"],
        if v.ext == "mp4" { "MPEG4" } else { "WebM" }
    );
    assert_eq!(file["size"], v.data.len().to_string().as_str());
    assert_eq!(file["width"], v.width.to_string().as_str());
    assert_eq!(file["height"], v.height.to_string().as_str());
    assert!(file["length"].as_str().unwrap().parse::<f64>().unwrap() > 0.0);
    assert_eq!(file["md5"], md5_hex(&v.data).as_str());
    assert_eq!(file["sha1"], sha1_hex(&v.data).as_str());
    assert_eq!(
        get(&format!("{base}/metadata/nope"), &[]).json(),
        serde_json::json!({})
    );

    let listed = format!("{base}/download/{}/{name}", v.id);
    assert_eq!(fp.file_url(v), listed);
    let redirect = get(&listed, &[]);
    assert_eq!(redirect.status, 302);
    let location = redirect.header("Location").unwrap();
    assert!(location.starts_with(&base) && !location.contains("/download/"));
    let file = get(location, &[("Range", "bytes=0-99")]);
    assert_eq!(file.status, 206);
    assert_eq!(file.body, v.data[..100]);
    assert_eq!(
        get(&format!("{base}/download/{}/other.mp4", v.id), &[]).status,
        404
    );
}

#[test]
fn files_support_ranges_if_range_and_etag_changes() {
    let fp = FakeProvider::start();
    let v = fp.add_fixtures(Source::Pexels, "rain", 1).remove(0);
    let url = fp.file_url(&v);
    let total = v.data.len();

    let full = get(&url, &[]);
    assert_eq!(full.status, 200);
    assert_eq!(full.header("Accept-Ranges"), Some("bytes"));
    assert_eq!(
        full.header("Content-Length"),
        Some(total.to_string().as_str())
    );
    let etag = full.header("ETag").unwrap().to_string();
    let last_modified = full.header("Last-Modified").unwrap().to_string();
    assert!(etag.starts_with('"') && etag.ends_with('"'));
    assert_eq!(etag, fp.etag(Source::Pexels, &v.id));

    let part = get(&url, &[("Range", "bytes=100-199")]);
    assert_eq!(part.status, 206);
    assert_eq!(part.body, v.data[100..200]);
    assert_eq!(
        part.header("Content-Range"),
        Some(format!("bytes 100-199/{total}").as_str())
    );
    let tail = get(&url, &[("Range", "bytes=1000-")]);
    assert_eq!(tail.status, 206);
    assert_eq!(tail.body, v.data[1000..]);
    let suffix = get(&url, &[("Range", "bytes=-10")]);
    assert_eq!(suffix.body, v.data[total - 10..]);
    let beyond = get(&url, &[("Range", &format!("bytes={total}-"))]);
    assert_eq!(beyond.status, 416);
    assert_eq!(
        beyond.header("Content-Range"),
        Some(format!("bytes */{total}").as_str())
    );

    let same = get(&url, &[("Range", "bytes=10-"), ("If-Range", &etag)]);
    assert_eq!(same.status, 206);
    let by_date = get(
        &url,
        &[("Range", "bytes=10-"), ("If-Range", &last_modified)],
    );
    assert_eq!(by_date.status, 206);
    let stale = get(&url, &[("Range", "bytes=10-"), ("If-Range", "\"stale\"")]);
    assert_eq!(stale.status, 200);
    assert_eq!(stale.body, v.data);

    fp.change_etag(Source::Pexels, &v.id);
    let changed = get(&url, &[("Range", "bytes=10-"), ("If-Range", &etag)]);
    assert_eq!(changed.status, 200, "old ETag no longer matches");
    assert_eq!(changed.body, v.data);
    assert_ne!(changed.header("ETag").unwrap(), etag);
    assert_ne!(changed.header("Last-Modified").unwrap(), last_modified);

    let head = request("HEAD", &url, &[], Duration::from_secs(5));
    assert_eq!(head.status, 200);
    assert_eq!(
        head.header("Content-Length"),
        Some(total.to_string().as_str())
    );
    assert!(head.body.is_empty());

    assert_eq!(
        get(&format!("{}/files/pexels/999.mp4", fp.base_url()), &[]).status,
        404
    );
    assert_eq!(get(&format!("{}/nowhere", fp.base_url()), &[]).status, 404);
}

#[test]
fn byte_level_faults() {
    let fp = FakeProvider::start();
    let v = fp.add_fixtures(Source::Pexels, "storm", 1).remove(0);
    let url = fp.file_url(&v);
    let total = v.data.len();

    fp.fault(FaultRule::times("/files/", Fault::ResetAfter(1000), 1));
    let reset = get(&url, &[]);
    assert_eq!(reset.status, 200);
    assert_eq!(
        reset.header("Content-Length"),
        Some(total.to_string().as_str())
    );
    assert_eq!(reset.body.len(), 1000);
    assert_eq!(reset.body, v.data[..1000]);
    assert_eq!(reset.error, Some(ErrorKind::ConnectionReset));

    fp.fault(FaultRule::times("/files/", Fault::TruncateAfter(500), 1));
    let cut = get(&url, &[]);
    assert_eq!(
        cut.header("Content-Length"),
        Some(total.to_string().as_str())
    );
    assert_eq!(cut.body, v.data[..500]);
    assert_eq!(cut.error, None, "truncation ends with a clean FIN");

    fp.fault(FaultRule::times("/files/", Fault::StallAfter(100), 1));
    let stall = request("GET", &url, &[], Duration::from_millis(300));
    assert_eq!(stall.body, v.data[..100]);
    assert!(matches!(
        stall.error,
        Some(ErrorKind::WouldBlock | ErrorKind::TimedOut)
    ));
    assert!(stall.elapsed < Duration::from_secs(2));

    fp.fault(FaultRule::times("/files/", Fault::IgnoreRange, 1));
    let ignored = get(&url, &[("Range", "bytes=100-")]);
    assert_eq!(ignored.status, 200);
    assert_eq!(ignored.body, v.data);

    fp.fault(FaultRule::times("/files/", Fault::Throttle(50_000), 1));
    let slow = get(&url, &[]);
    assert_eq!(slow.body, v.data);
    let expected = Duration::from_secs_f64(total as f64 / 50_000.0);
    assert!(
        slow.elapsed >= expected.mul_f64(0.8),
        "{:?} < {expected:?}",
        slow.elapsed
    );

    fp.fault(FaultRule::times(
        "/files/",
        Fault::Latency(Duration::from_millis(300)),
        1,
    ));
    let late = get(&url, &[]);
    assert!(late.elapsed >= Duration::from_millis(300));
    assert_eq!(late.body, v.data);

    // Body faults apply to JSON too.
    fp.fault(FaultRule::times("/videos/search", Fault::ResetAfter(10), 1));
    let json_reset = pexels(&fp, "query=storm");
    assert_eq!(json_reset.body.len(), 10);
    assert_eq!(json_reset.error, Some(ErrorKind::ConnectionReset));
    let ok = pexels(&fp, "query=storm");
    assert_eq!(ok.json()["total_results"], 1);

    let log = fp.requests_to("/files/");
    assert_eq!(log.len(), 6, "faulted requests are logged too");
    assert!(log.iter().all(|r| r.status == 200));
}

#[test]
fn status_and_body_faults_and_times() {
    let fp = FakeProvider::start();
    fp.add_fixtures(Source::Pexels, "snow", 2);

    fp.fault(FaultRule::times(
        "/videos/search",
        Fault::Status {
            code: 429,
            retry_after: Some("2".into()),
        },
        1,
    ));
    let limited = pexels(&fp, "query=snow");
    assert_eq!(limited.status, 429);
    assert_eq!(limited.header("Retry-After"), Some("2"));

    fp.fault(FaultRule::times(
        "query=snow",
        Fault::Status {
            code: 503,
            retry_after: None,
        },
        2,
    ));
    assert_eq!(pexels(&fp, "query=snow").status, 503);
    assert_eq!(pexels(&fp, "query=snow").status, 503);
    assert_eq!(pexels(&fp, "query=snow").status, 200, "times is consumed");

    fp.fault(FaultRule::times("/videos/search", Fault::MalformedJson, 1));
    let broken = pexels(&fp, "query=snow");
    assert_eq!(broken.status, 200);
    assert_eq!(broken.text(), "{\"videos\": [");
    assert!(serde_json::from_slice::<Value>(&broken.body).is_err());

    fp.fault(FaultRule::always(
        "/videos/search",
        Fault::Body("{\"videos\": 5}".into()),
    ));
    assert_eq!(pexels(&fp, "query=snow").text(), "{\"videos\": 5}");
    assert_eq!(pexels(&fp, "query=snow").text(), "{\"videos\": 5}");
    fp.clear_faults();
    assert_eq!(pexels(&fp, "query=snow").json()["total_results"], 2);

    // The first matching rule with uses left wins.
    fp.fault(FaultRule::times(
        "/videos/",
        Fault::Status {
            code: 500,
            retry_after: None,
        },
        1,
    ));
    fp.fault(FaultRule::times(
        "/videos/",
        Fault::Status {
            code: 502,
            retry_after: None,
        },
        1,
    ));
    assert_eq!(pexels(&fp, "query=snow").status, 500);
    assert_eq!(pexels(&fp, "query=snow").status, 502);
    assert_eq!(pexels(&fp, "query=snow").status, 200);

    let statuses: Vec<u16> = fp
        .requests_to("/videos/search")
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(
        statuses,
        [429, 503, 503, 200, 200, 200, 200, 200, 500, 502, 200]
    );
}

#[test]
fn request_log_records_headers_and_decoded_query() {
    let fp = FakeProvider::start();
    fp.add_fixtures(Source::Pixabay, "red car", 1);
    let key = fp.api_key(Source::Pixabay);
    let r = get(
        &format!(
            "{}/api/videos/?key={key}&q=red+car%21&per_page=5",
            fp.base_url()
        ),
        &[
            ("User-Agent", "vfetch-test/1 (+https://example.invalid)"),
            ("X-Custom", "yes"),
        ],
    );
    assert_eq!(r.json()["totalHits"], 1);
    let log = fp.requests();
    assert_eq!(log.len(), 1);
    let rec = &log[0];
    assert_eq!(rec.method, "GET");
    assert_eq!(rec.path, "/api/videos/");
    assert_eq!(rec.param("q"), Some("red car!"));
    assert_eq!(rec.param("key"), Some(key));
    assert_eq!(
        rec.header("user-agent"),
        Some("vfetch-test/1 (+https://example.invalid)")
    );
    assert_eq!(rec.header("X-CUSTOM"), Some("yes"));
    assert_eq!(rec.status, 200);
    assert!(rec.at.elapsed() < Duration::from_secs(5));
    assert_eq!(
        fp.requests_to("q=red").len(),
        1,
        "matches the raw target too"
    );
    assert_eq!(fp.requests_to("q=red car!").len(), 1, "and the decoded one");
    assert!(fp.requests_to("/w/api.php").is_empty());
}

#[test]
fn dropping_the_server_stops_it_promptly() {
    let fp = FakeProvider::start();
    let v = fp.add_fixtures(Source::Archive, "dusk", 1).remove(0);
    let url = fp.direct_file_url(&v);
    let addr = fp.base_url().trim_start_matches("http://").to_string();
    fp.fault(FaultRule::always("/files/", Fault::StallAfter(10)));
    let client = std::thread::spawn(move || request("GET", &url, &[], Duration::from_secs(10)));
    crate::support::wait_until(Duration::from_secs(2), "the stalled request", || {
        !fp.requests_to("/files/").is_empty()
    });
    let started = Instant::now();
    drop(fp);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "drop took {:?}",
        started.elapsed()
    );
    let stalled = client.join().unwrap();
    assert_eq!(stalled.body.len(), 10);
    assert!(
        stalled.elapsed < Duration::from_secs(5),
        "the stall ended with the server"
    );
    assert!(
        TcpStream::connect(&addr).is_err(),
        "nothing listens any more"
    );
}

#[test]
fn add_fixtures_refuses_more_than_exist() {
    let fp = FakeProvider::start();
    let n = fixtures().len();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        fp.add_fixtures(Source::Pexels, "too many", n + 1)
    }));
    let err = result.expect_err("must panic");
    let msg = err.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(msg.contains("distinct fixture videos"), "{msg}");
}
