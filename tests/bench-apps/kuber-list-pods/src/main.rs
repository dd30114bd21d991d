//! Prints the names of the pods of a namespace (the first argument, else the kubeconfig's).

use kuber::Context;
use kuber::models::api::core::v1::Pod;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut ctx = Context::infer()?;
    if let Some(ns) = std::env::args().nth(1) {
        ctx.set_ns(ns);
    }
    for pod in ctx.list::<Pod>().await? {
        println!("{}", pod.metadata.and_then(|m| m.name).unwrap_or_default());
    }
    Ok(())
}
