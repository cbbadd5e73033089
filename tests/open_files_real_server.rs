//! A server raises its open-files soft limit to the hard limit when it binds (every socket is
//! a file). Its own test binary: the limit is per process.

#![cfg(unix)]

use rlimit::Resource;
use sockeye::prelude::*;

#[tokio::test]
async fn binding_raises_the_open_files_soft_limit_to_the_hard_limit_real_server() {
    let (_, hard) = Resource::NOFILE.get().unwrap();
    let low = 256.min(hard);
    Resource::NOFILE.set(low, hard).unwrap();
    assert_eq!(Resource::NOFILE.get().unwrap().0, low);
    let server = App::new().bind("127.0.0.1:0").await.unwrap();
    let (soft, hard_after) = Resource::NOFILE.get().unwrap();
    assert_eq!(hard_after, hard);
    assert!(soft == hard || (hard > 1_000_000 && soft >= 1_000_000), "soft limit {soft}, hard {hard}");
    drop(server);
}
