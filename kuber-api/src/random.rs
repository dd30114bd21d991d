//! Random numbers for the workspace (jitter here, uids and tokens in kuber-testserver, the e2e
//! harness's tokens): the OS's source through ring, which rustls brings in already. One source,
//! so no crate grows its own mix of clocks and counters.

use ring::rand::{SecureRandom as _, SystemRandom};

/// A random u64. Should the OS refuse (it does not on Linux once booted), a time-seeded mix, so
/// that successive values still differ.
pub fn u64() -> u64 {
    let mut bytes = [0u8; 8];
    if SystemRandom::new().fill(&mut bytes).is_ok() {
        return u64::from_le_bytes(bytes);
    }
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    (nanos ^ n.rotate_left(32)).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// A number in [0, 1).
pub fn unit() -> f64 {
    (u64() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    #[test]
    fn values_differ_and_units_stay_in_range() {
        let a: Vec<u64> = (0..8).map(|_| super::u64()).collect();
        let mut b = a.clone();
        b.dedup();
        assert_eq!(a.len(), b.len(), "eight draws, a repeat: {a:?}");
        for _ in 0..1000 {
            let u = super::unit();
            assert!((0.0..1.0).contains(&u), "{u}");
        }
    }
}
