//! Scenario 3: search fan-out.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use vfetch::source_kind::SourceKind;

use crate::ctx::Ctx;
use crate::daemon::{add_job, connect, Daemon, V};
use crate::fake_provider;
use crate::table::{median, ms, Row};

pub(crate) fn fanout(ctx: &Ctx) -> Result<Vec<Row>> {
    use fake_provider::{FakeProvider, Fault, FaultRule, Source};
    const S: &str = "fanout";
    let latency = ctx.sizes.fanout_latency;
    let fake = FakeProvider::start();
    for path in [
        "/videos/search",
        "/api/videos",
        "/w/api.php",
        "/advancedsearch.php",
    ] {
        fake.fault(FaultRule::always(path, Fault::Latency(latency)));
    }
    let mut entries = vec![
        ("validate".to_string(), V::S("off".into())),
        ("parallel_downloads".to_string(), V::I(4)),
    ];
    for source in Source::ALL {
        let name = source.name();
        entries.push((format!("sources.{name}.enabled"), V::B(true)));
        entries.push((format!("sources.{name}.base_url"), V::S(fake.base_url())));
        entries.push((
            format!("sources.{name}.rate_limit"),
            V::S("1000000/1".into()),
        ));
        let key = fake.api_key(source);
        if !key.is_empty() {
            entries.push((format!("sources.{name}.api_key"), V::S(key.into())));
        }
    }
    let mut d = Daemon::new(&ctx.root, "fanout", entries)?;
    d.start()?;
    let kinds = [
        (Source::Pexels, SourceKind::Pexels),
        (Source::Pixabay, SourceKind::Pixabay),
        (Source::Wikimedia, SourceKind::Wikimedia),
        (Source::Archive, SourceKind::Archive),
    ];
    let per_source = 3;
    let db = d.db();
    let mut run_no = 0;
    // One run: a fresh theme with `per_source` videos at each source; time from add until every
    // wanted candidate is in the database.
    let mut run = |wanted: &[(Source, SourceKind)]| -> Result<f64> {
        run_no += 1;
        let theme = format!("fanout{run_no}");
        for (source, _) in kinds {
            fake.add_fixtures(source, &theme, per_source);
        }
        let sources: Vec<SourceKind> = wanted.iter().map(|(_, k)| *k).collect();
        let expect = per_source * wanted.len();
        let socket = d.socket.clone();
        let (t0, id) = ctx.rt.block_on(async {
            let mut client = connect(&socket).await?;
            let t0 = Instant::now();
            let job = add_job(&mut client, &theme, 1, sources).await?;
            anyhow::Ok((t0, job.id))
        })?;
        let conn = rusqlite::Connection::open_with_flags(
            &db,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(Duration::from_secs(5))?;
        let mut stmt = conn.prepare("SELECT COUNT(*) FROM candidates WHERE job_id = ?1")?;
        loop {
            let n: i64 = stmt.query_row([id.0], |r| r.get(0))?;
            if n as usize >= expect {
                return Ok(t0.elapsed().as_secs_f64());
            }
            if t0.elapsed() > Duration::from_secs(30) {
                bail!(
                    "fan-out: only {n} of {expect} candidates stored after 30 s\n{}",
                    d.log_tail()
                );
            }
            std::thread::sleep(Duration::from_micros(500));
        }
    };
    let mut all = Vec::new();
    let mut single: HashMap<&'static str, Vec<f64>> = HashMap::new();
    let mut ratios = Vec::new();
    // A warm-up run so connection set-up in the first measured run is not special.
    run(&kinds)?;
    for rep in 0..ctx.reps {
        let mut order: Vec<Option<usize>> = vec![None, Some(0), Some(1), Some(2), Some(3)];
        let len = order.len();
        order.rotate_left(rep % len);
        let mut slowest = 0.0f64;
        let mut together = 0.0;
        for o in order {
            match o {
                None => {
                    together = run(&kinds)?;
                    all.push(together);
                }
                Some(i) => {
                    let t = run(&kinds[i..=i])?;
                    slowest = slowest.max(t);
                    single.entry(kinds[i].0.name()).or_default().push(t);
                }
            }
        }
        say!(
            "fanout rep {}: four sources {:.0} ms, slowest single {:.0} ms",
            rep + 1,
            together * 1e3,
            slowest * 1e3
        );
        ratios.push(together / slowest);
    }
    d.remove();
    drop(fake);
    let slowest_med = kinds
        .iter()
        .map(|(s, _)| median(&single[s.name()]))
        .fold(0.0, f64::max);
    let r = median(&ratios);
    let mut rows = vec![Row::info(
        S,
        format!(
            "four sources, each answering after {} ms: add -> all candidates stored",
            latency.as_millis()
        ),
        ms(median(&all) * 1e3),
    )
    .peer(format!("{} (slowest single source)", ms(slowest_med * 1e3)))
    .ratio(r)
    .target("<= 1.2x slowest", r <= 1.2)];
    for (s, _) in kinds {
        rows.push(Row::info(
            S,
            format!("only {}", s.name()),
            ms(median(&single[s.name()]) * 1e3),
        ));
    }
    Ok(rows)
}
