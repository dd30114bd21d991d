//! Prints the names of the pods of a namespace (the first argument, else the kubeconfig's).

use k8s_openapi::api::core::v1::Pod;
use kube::Client;
use kube::api::{Api, ListParams};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client = Client::try_default().await?;
    let pods: Api<Pod> = match std::env::args().nth(1) {
        Some(ns) => Api::namespaced(client, &ns),
        None => Api::default_namespaced(client),
    };
    for pod in pods.list(&ListParams::default()).await? {
        println!("{}", pod.metadata.name.unwrap_or_default());
    }
    Ok(())
}
