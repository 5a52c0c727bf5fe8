//! The progress line `eval` shows on a terminal while it reads a machines file: what it
//! reads, how much of it, how fast. Written straight to the terminal's standard error (the
//! reading thread reports), at most five times a second, and cleared when reading ends.

use std::io::Write;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How often the line is redrawn at most.
const EVERY: Duration = Duration::from_millis(200);

/// A progress line for reading `name`; [`Line::clear`] removes it.
pub(crate) struct Line {
    state: std::sync::Arc<Mutex<State>>,
}

struct State {
    started: Instant,
    drawn: Option<Instant>,
}

impl Line {
    /// A line that [`Line::progress`] draws as the file called `name` is read.
    pub(crate) fn new() -> Line {
        Line {
            state: std::sync::Arc::new(Mutex::new(State {
                started: Instant::now(),
                drawn: None,
            })),
        }
    }

    /// The callback for the reader.
    pub(crate) fn progress(&self, name: &str) -> cohort_fleet::Progress {
        let state = std::sync::Arc::clone(&self.state);
        let mut shown = Vec::new();
        crate::terminal::escape(name, &mut shown);
        let name = String::from_utf8_lossy(&shown).into_owned();
        cohort_fleet::Progress::new(move |read, size| {
            let Ok(mut state) = state.lock() else {
                return;
            };
            let now = Instant::now();
            if state.drawn.is_some_and(|at| now.duration_since(at) < EVERY)
                || now.duration_since(state.started) < EVERY
            {
                return;
            }
            state.drawn = Some(now);
            let text = describe(&name, read, size, now.duration_since(state.started));
            let mut stderr = std::io::stderr().lock();
            let _ = write!(stderr, "\r\x1b[K{text}");
            let _ = stderr.flush();
        })
    }

    /// Removes the line, if it was drawn.
    pub(crate) fn clear(&self) {
        if let Ok(state) = self.state.lock()
            && state.drawn.is_some()
        {
            let mut stderr = std::io::stderr().lock();
            let _ = write!(stderr, "\r\x1b[K");
            let _ = stderr.flush();
        }
    }
}

/// `reading NAME: 312 MB of 754 MB (41%), 152 MB/s`.
fn describe(name: &str, read: u64, size: Option<u64>, elapsed: Duration) -> String {
    const MB: f64 = 1e6;
    let done = read as f64 / MB;
    let rate = done / elapsed.as_secs_f64().max(1e-3);
    match size.filter(|&size| size > 0) {
        Some(size) => format!(
            "reading {name}: {done:.0} MB of {:.0} MB ({}%), {rate:.0} MB/s",
            size as f64 / MB,
            (read.min(size) * 100 / size)
        ),
        None => format!("reading {name}: {done:.0} MB, {rate:.0} MB/s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_says_how_much_of_what_and_how_fast() {
        assert_eq!(
            describe(
                "fleet.ndjson",
                312_000_000,
                Some(754_000_000),
                Duration::from_secs(2)
            ),
            "reading fleet.ndjson: 312 MB of 754 MB (41%), 156 MB/s"
        );
        assert_eq!(
            describe("-", 5_000_000, None, Duration::from_secs(1)),
            "reading -: 5 MB, 5 MB/s"
        );
        assert_eq!(
            describe("empty", 0, Some(0), Duration::ZERO),
            "reading empty: 0 MB, 0 MB/s"
        );
    }
}
