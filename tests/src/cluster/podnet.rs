//! A pod network per cluster: the node agent gives pods addresses `127.N.x.y`, and two clusters
//! on one machine (parallel e2e runs, a `cluster up` beside the suite) must not hand out the
//! same address, or one's `nginx` finds port 80 taken by the other's.
//!
//! Each cluster claims a free `N` by creating `kuber-pod-nets/N` under the temp folder (atomic),
//! holding its pid; a claim whose process is gone is taken over. The claim ends with the value.

use std::fs;
use std::io::Write;
use std::path::PathBuf;

/// `127.N`: N from 1 (127.0 is the machine's own loopback use) to 254.
const FIRST: u8 = 1;
const LAST: u8 = 254;

#[derive(Debug)]
pub struct PodNet {
    /// `127.N`, as the node agent's `--pod-ip-prefix` takes it.
    pub prefix: String,
    claim: PathBuf,
}

impl PodNet {
    /// Claims the first free network under `dir` (the temp folder's `kuber-pod-nets`).
    pub fn claim_in(dir: PathBuf) -> Result<PodNet, String> {
        fs::create_dir_all(&dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
        for n in FIRST..=LAST {
            let claim = dir.join(n.to_string());
            if take(&claim)? {
                return Ok(PodNet {
                    prefix: format!("127.{n}"),
                    claim,
                });
            }
        }
        Err(format!(
            "every pod network 127.{FIRST}–127.{LAST} is claimed by a running cluster ({})",
            dir.display()
        ))
    }

    pub fn claim() -> Result<PodNet, String> {
        PodNet::claim_in(std::env::temp_dir().join("kuber-pod-nets"))
    }
}

/// Creates the claim file with our pid; a stale one (its pid no longer runs) is replaced.
fn take(claim: &PathBuf) -> Result<bool, String> {
    for _ in 0..2 {
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(claim)
        {
            Ok(mut file) => {
                write!(file, "{}", std::process::id())
                    .map_err(|e| format!("write {}: {e}", claim.display()))?;
                return Ok(true);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let owner = fs::read_to_string(claim).unwrap_or_default();
                let alive = owner
                    .trim()
                    .parse::<u32>()
                    .is_ok_and(|pid| PathBuf::from(format!("/proc/{pid}")).exists());
                // An empty file is a claim being written: leave it to its owner.
                if alive || owner.is_empty() {
                    return Ok(false);
                }
                let _ = fs::remove_file(claim);
            }
            Err(e) => return Err(format!("create {}: {e}", claim.display())),
        }
    }
    Ok(false)
}

impl Drop for PodNet {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.claim);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clusters_get_distinct_networks_and_stale_claims_are_taken_over() {
        let dir = std::env::temp_dir().join(format!("kuber-podnet-test-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let a = PodNet::claim_in(dir.clone()).unwrap();
        let b = PodNet::claim_in(dir.clone()).unwrap();
        assert_eq!((a.prefix.as_str(), b.prefix.as_str()), ("127.1", "127.2"));
        // A claim of a process that no longer runs (pid beyond pid_max) is free again.
        fs::write(dir.join("3"), "4294967295").unwrap();
        let c = PodNet::claim_in(dir.clone()).unwrap();
        assert_eq!(c.prefix, "127.3");
        drop(a);
        let d = PodNet::claim_in(dir.clone()).unwrap();
        assert_eq!(d.prefix, "127.1", "a dropped claim is released");
        drop((b, c, d));
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 0);
        fs::remove_dir_all(&dir).unwrap();
    }
}
