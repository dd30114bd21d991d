//! Prints the names of the pods of a namespace (the first argument, else the kubeconfig's).

use kuber_api::{Client, CoreV1Api, ListParams};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client = Client::try_default()?;
    let ns = match std::env::args().nth(1) {
        Some(ns) => ns,
        None => client.default_namespace().to_owned(),
    };
    let pods = CoreV1Api::new(client)
        .list_namespaced_pod(&ns, &ListParams::default())
        .await?;
    for pod in pods.items {
        println!("{}", pod.metadata.and_then(|m| m.name).unwrap_or_default());
    }
    Ok(())
}
