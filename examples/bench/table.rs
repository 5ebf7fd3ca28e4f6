//! Results: one table row per metric, with its verdict against the target, the table
//! printer, and the statistics and number formatting the rows use.

use std::fmt::Write as _;

use crate::util::MIB;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Verdict {
    Met,
    Missed,
    Info,
    Skipped,
    Error,
}

impl Verdict {
    fn label(self) -> &'static str {
        match self {
            Verdict::Met => "met",
            Verdict::Missed => "MISSED",
            Verdict::Info => "-",
            Verdict::Skipped => "skipped",
            Verdict::Error => "ERROR",
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Row {
    pub(crate) scenario: &'static str,
    pub(crate) metric: String,
    pub(crate) vfetch: String,
    pub(crate) peer: String,
    pub(crate) ratio: String,
    pub(crate) target: String,
    pub(crate) verdict: Verdict,
}

impl Row {
    pub(crate) fn info(
        scenario: &'static str,
        metric: impl Into<String>,
        vfetch: impl Into<String>,
    ) -> Row {
        Row {
            scenario,
            metric: metric.into(),
            vfetch: vfetch.into(),
            peer: String::new(),
            ratio: String::new(),
            target: String::new(),
            verdict: Verdict::Info,
        }
    }

    pub(crate) fn peer(mut self, peer: impl Into<String>) -> Row {
        self.peer = peer.into();
        self
    }

    pub(crate) fn ratio(mut self, ratio: f64) -> Row {
        self.ratio = format!("{ratio:.2}x");
        self
    }

    /// Sets the target text and whether `ok` met it.
    pub(crate) fn target(mut self, target: impl Into<String>, ok: bool) -> Row {
        self.target = target.into();
        self.verdict = if ok { Verdict::Met } else { Verdict::Missed };
        self
    }

    pub(crate) fn note_target(mut self, target: impl Into<String>) -> Row {
        self.target = target.into();
        self
    }
}

pub(crate) fn table(rows: &[Row]) -> String {
    let header = [
        "scenario", "metric", "vfetch", "peer", "ratio", "target", "result",
    ];
    let cells: Vec<[String; 7]> = rows
        .iter()
        .map(|r| {
            [
                r.scenario.to_string(),
                r.metric.clone(),
                r.vfetch.clone(),
                r.peer.clone(),
                r.ratio.clone(),
                r.target.clone(),
                r.verdict.label().to_string(),
            ]
        })
        .collect();
    let mut widths = header.map(|h| h.len());
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row.iter()) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cols: &[String]| {
        let mut s = String::from("|");
        for (c, w) in cols.iter().zip(widths.iter()) {
            let pad = w - c.chars().count();
            let _ = write!(s, " {c}{} |", " ".repeat(pad));
        }
        s.push('\n');
        s
    };
    let mut out = line(&header.map(String::from));
    out.push('|');
    for w in &widths {
        let _ = write!(out, "{}|", "-".repeat(w + 2));
    }
    out.push('\n');
    for row in &cells {
        out.push_str(&line(row));
    }
    out
}

pub(crate) fn median(values: &[f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

pub(crate) fn percentile(values: &[f64], p: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    let idx = ((v.len() - 1) as f64 * p).round() as usize;
    v[idx.min(v.len() - 1)]
}

pub(crate) fn ms(d: f64) -> String {
    if d < 1.0 {
        format!("{d:.3} ms")
    } else {
        format!("{d:.1} ms")
    }
}

pub(crate) fn secs(d: f64) -> String {
    format!("{d:.2} s")
}

pub(crate) fn mib(bytes: f64) -> String {
    format!("{:.1} MiB", bytes / MIB as f64)
}
