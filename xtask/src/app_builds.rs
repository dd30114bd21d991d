//! `cargo xtask bench --compile`: the same small program on each SDK (`tests/bench-apps`, its
//! own workspace), built clean in the same run: dev builds alternating over rounds, then one
//! release build each (time and binary size), and the critical path of each app's last dev build
//! from cargo's `--timings` data.

use std::fs;
use std::path::{Path, PathBuf};

use crate::process::{cargo, run};

/// The apps, the baseline first.
const APPS: &[(&str, &str)] = &[
    (
        "kube-list-pods",
        "kube 5 + k8s-openapi 0.29 (client, rustls-tls, ring; v1_36)",
    ),
    (
        "kuber-api-list-pods",
        "kuber-api, all groups (default features)",
    ),
    (
        "kuber-api-core-list-pods",
        "kuber-api, `core` only (no default features: HTTP/1.1, no gzip, no proxies, as kube-rs's defaults)",
    ),
    ("kuber-list-pods", "kuber, all groups (default features)"),
];

/// One unit of cargo's timing data.
struct Unit {
    index: u64,
    name: String,
    target: String,
    start: f64,
    duration: f64,
    unblocked: Vec<u64>,
}

/// What `--timings` recorded for one build.
struct Timings {
    units: Vec<Unit>,
}

impl Timings {
    /// Reads the unit table cargo writes into its timing report.
    fn read(html: &Path) -> Result<Timings, String> {
        let text = fs::read_to_string(html).map_err(|e| format!("{}: {e}", html.display()))?;
        let start = text
            .find("const UNIT_DATA = ")
            .map(|i| i + "const UNIT_DATA = ".len())
            .ok_or_else(|| format!("{}: no UNIT_DATA", html.display()))?;
        let end = text[start..]
            .find(";\n")
            .map(|i| start + i)
            .ok_or_else(|| format!("{}: UNIT_DATA does not end", html.display()))?;
        let data: serde_json::Value = serde_json::from_str(&text[start..end])
            .map_err(|e| format!("{}: UNIT_DATA: {e}", html.display()))?;
        let units = data
            .as_array()
            .ok_or_else(|| format!("{}: UNIT_DATA is not a list", html.display()))?
            .iter()
            .map(|u| {
                let ids = |key: &str| {
                    u[key]
                        .as_array()
                        .map(|a| a.iter().filter_map(|v| v.as_u64()).collect::<Vec<_>>())
                        .unwrap_or_default()
                };
                let mut unblocked = ids("unblocked_units");
                unblocked.extend(ids("unblocked_rmeta_units"));
                Unit {
                    index: u["i"].as_u64().unwrap_or(u64::MAX),
                    name: u["name"].as_str().unwrap_or("?").to_owned(),
                    target: u["target"].as_str().unwrap_or("").trim().to_owned(),
                    start: u["start"].as_f64().unwrap_or(0.0),
                    duration: u["duration"].as_f64().unwrap_or(0.0),
                    unblocked,
                }
            })
            .collect();
        Ok(Timings { units })
    }

    fn wall(&self) -> f64 {
        self.units
            .iter()
            .map(|u| u.start + u.duration)
            .fold(0.0, f64::max)
    }

    fn cpu(&self) -> f64 {
        self.units.iter().map(|u| u.duration).sum()
    }

    /// The chain that ended last: from the last unit back through the unit that unblocked
    /// each (the latest to finish of its dependencies).
    fn critical_path(&self) -> Vec<&Unit> {
        let Some(mut unit) = self
            .units
            .iter()
            .max_by(|a, b| (a.start + a.duration).total_cmp(&(b.start + b.duration)))
        else {
            return Vec::new();
        };
        let mut path = vec![unit];
        while let Some(before) = self
            .units
            .iter()
            .filter(|u| u.unblocked.contains(&unit.index))
            .max_by(|a, b| (a.start + a.duration).total_cmp(&(b.start + b.duration)))
        {
            path.push(before);
            unit = before;
        }
        path.reverse();
        path
    }

    /// The units that took longest, summed by crate.
    fn heaviest(&self, count: usize) -> Vec<(String, f64)> {
        let mut by_crate: Vec<(String, f64)> = Vec::new();
        for u in &self.units {
            match by_crate.iter_mut().find(|(n, _)| *n == u.name) {
                Some((_, d)) => *d += u.duration,
                None => by_crate.push((u.name.clone(), u.duration)),
            }
        }
        by_crate.sort_by(|a, b| b.1.total_cmp(&a.1));
        by_crate.truncate(count);
        by_crate
    }
}

fn mean(t: &[f64]) -> f64 {
    t.iter().sum::<f64>() / t.len().max(1) as f64
}

/// Clean builds of [`APPS`]; `release`: one clean release build each as well.
pub fn app_builds(root: &Path, rounds: usize, release: bool) -> Result<(), String> {
    let apps = root.join("tests/bench-apps");
    println!(
        "\n== app builds (clean, debug, {rounds} rounds, CARGO_INCREMENTAL={})",
        std::env::var("CARGO_INCREMENTAL").unwrap_or_else(|_| "unset".into())
    );
    // Sources first (not timed); this also brings the apps' lock file up to date with kuber's
    // dependencies if they changed.
    run(cargo().current_dir(&apps).args(["fetch", "-q"]))?;
    let target = root.join("target/bench-apps");
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); APPS.len()];
    let mut timings: Vec<Option<Timings>> = APPS.iter().map(|_| None).collect();
    for round in 0..rounds {
        for i in 0..APPS.len() {
            let app = (i + round) % APPS.len();
            let (package, _) = APPS[app];
            let dir = target.join(package);
            let _ = fs::remove_dir_all(&dir);
            let took = run(cargo()
                .current_dir(&apps)
                .env("CARGO_TARGET_DIR", &dir)
                .args(["build", "-q", "--offline", "--timings", "-p", package]))?;
            println!(
                "  round {}: {package} {:.1} s",
                round + 1,
                took.as_secs_f64()
            );
            times[app].push(took.as_secs_f64());
            timings[app] = Some(Timings::read(&dir.join("cargo-timings/cargo-timing.html"))?);
        }
    }
    let base = mean(&times[0]);
    println!();
    for ((package, what), t) in APPS.iter().zip(&times) {
        let each: Vec<String> = t.iter().map(|s| format!("{s:.1} s")).collect();
        println!(
            "{package:<25} {what}: {} (mean {:.1} s) = {:.2}x of {}",
            each.join(", "),
            mean(t),
            mean(t) / base,
            APPS[0].0
        );
    }
    if let (Some(api), Some(facade)) = (index("kuber-api-list-pods"), index("kuber-list-pods")) {
        println!(
            "the kuber facade adds {:+.0} % to the kuber-api app's build",
            (mean(&times[facade]) / mean(&times[api]) - 1.0) * 100.0
        );
    }

    println!("\n== critical paths (last dev round, cargo --timings; s from the build's start)");
    for ((package, _), t) in APPS.iter().zip(&timings) {
        let Some(t) = t else { continue };
        let path: Vec<String> = t
            .critical_path()
            .iter()
            .map(|u| {
                let what = match u.target.as_str() {
                    "" => u.name.clone(),
                    target => format!("{} ({target})", u.name),
                };
                format!("{what} {:.1}+{:.1}", u.start, u.duration)
            })
            .collect();
        let heavy: Vec<String> = t
            .heaviest(8)
            .iter()
            .map(|(n, d)| format!("{n} {d:.1}"))
            .collect();
        println!(
            "{package}: {:.1} s wall, {:.1} s of compiler time\n  path: {}\n  heaviest: {}",
            t.wall(),
            t.cpu(),
            path.join(" → "),
            heavy.join(", ")
        );
    }

    if release {
        println!("\n== release builds (clean, one each)");
        let mut release_times = Vec::new();
        for (package, what) in APPS {
            let dir = target.join(format!("{package}-release"));
            let _ = fs::remove_dir_all(&dir);
            let took = run(cargo()
                .current_dir(&apps)
                .env("CARGO_TARGET_DIR", &dir)
                .args(["build", "-q", "--offline", "--release", "-p", package]))?;
            let size = binary_size(&dir.join("release").join(package));
            release_times.push(took.as_secs_f64());
            println!(
                "{package:<25} {what}: {:.1} s = {:.2}x of {}; binary {}",
                took.as_secs_f64(),
                took.as_secs_f64() / release_times[0],
                APPS[0].0,
                size.map_or("?".into(), |s| format!("{:.1} MB", s as f64 / 1e6))
            );
            let _ = fs::remove_dir_all(&dir);
        }
    }
    let _ = fs::remove_dir_all(&target);
    Ok(())
}

fn index(package: &str) -> Option<usize> {
    APPS.iter().position(|(p, _)| *p == package)
}

fn binary_size(path: &PathBuf) -> Option<u64> {
    fs::metadata(path).ok().map(|m| m.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_critical_path_follows_the_last_unblocking_unit() {
        let dir = std::env::temp_dir().join(format!("kuber-timings-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let html = dir.join("t.html");
        // a (0–2) and b (0–5) both unblock c (5–7); c unblocks d (7–8).
        fs::write(
            &html,
            r#"<script>
const UNIT_DATA = [{"i":0,"name":"a","target":"","start":0.0,"duration":2.0,"unblocked_units":[2],"unblocked_rmeta_units":[]},{"i":1,"name":"b","target":"","start":0.0,"duration":5.0,"unblocked_units":[2],"unblocked_rmeta_units":[]},{"i":2,"name":"c","target":"","start":5.0,"duration":2.0,"unblocked_units":[3],"unblocked_rmeta_units":[]},{"i":3,"name":"d","target":" bin","start":7.0,"duration":1.0,"unblocked_units":[],"unblocked_rmeta_units":[]}];
</script>"#,
        )
        .unwrap();
        let t = Timings::read(&html).unwrap();
        let path: Vec<&str> = t.critical_path().iter().map(|u| u.name.as_str()).collect();
        assert_eq!(path, ["b", "c", "d"]);
        assert_eq!(t.wall(), 8.0);
        assert_eq!(t.cpu(), 10.0);
        assert_eq!(t.heaviest(1)[0].0, "b");
        let _ = fs::remove_dir_all(&dir);
    }
}
