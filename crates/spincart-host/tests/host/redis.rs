//! `fermyon:spin/redis@2.0.0` and the Redis trigger, including a Redis restart: under the strict
//! profile the trigger ends as Spin's does, under the lenient one it resubscribes.

use redis::AsyncCommands;

use spincart_host::profile::Profile;

use spincart_testkit::{ports, PrivateRedis};

use crate::support::{eventually, host_port, redis_url, TestHost};

fn manifest(channel: &str) -> String {
    format!(
        r#"
spin_manifest_version = 2
[application]
name = "redis"
[application.trigger.redis]
address = "{{{{ redis_url }}}}"
[variables]
redis_url = {{ required = true }}
redis_host = {{ required = true }}
list_key = {{ required = true }}
[[trigger.http]]
route = "/..."
component = "probe"
[[trigger.redis]]
channel = "{channel}"
component = "listener"
[component.probe]
source = "{{probe-http}}"
allowed_outbound_hosts = ["redis://{{{{ redis_host }}}}"]
[component.listener]
source = "{{probe-redis}}"
allowed_outbound_hosts = ["redis://{{{{ redis_host }}}}"]
[component.listener.variables]
redis_url = "{{{{ redis_url }}}}"
list_key = "{{{{ list_key }}}}"
"#
    )
}

async fn connection(url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

async fn received(url: &str, key: &str) -> Vec<String> {
    let mut c = connection(url).await;
    c.lrange(key, 0, -1).await.unwrap()
}

#[tokio::test]
async fn gives_components_spins_redis_operations() {
    let url = redis_url();
    let host = TestHost::start(
        &manifest("unused-channel"),
        &[
            ("redis_url", &url),
            ("redis_host", &host_port(&url)),
            ("list_key", "unused"),
        ],
    )
    .await;
    let result = host.get_json(&format!("/redis?address={url}")).await;
    assert_eq!(result["set"], "Ok(())");
    assert_eq!(result["get"], "Ok(Some([118, 97, 108, 117, 101]))");
    assert!(result["incr"].as_str().unwrap().starts_with("Ok("));
    assert_eq!(result["execute"], "Ok([RedisResult::Status(\"PONG\")])");
}

#[tokio::test]
async fn delivers_each_message_and_keeps_going_after_a_failing_handler() {
    let url = redis_url();
    let channel = format!("test-{}", uuid::Uuid::new_v4());
    let key = format!("probe:{channel}");
    let _host = TestHost::start(
        &manifest(&channel),
        &[
            ("redis_url", &url),
            ("redis_host", &host_port(&url)),
            ("list_key", &key),
        ],
    )
    .await;
    let mut c = connection(&url).await;
    eventually(std::time::Duration::from_secs(10), "the trigger hears the channel", || {
        let mut c = c.clone();
        let channel = channel.clone();
        async move { (c.publish::<_, _, i64>(&channel, "fail").await.unwrap() > 0).then_some(()) }
    })
    .await;
    let _: i64 = c.publish(&channel, "second").await.unwrap();
    let messages = eventually(
        std::time::Duration::from_secs(10),
        "the message after the failed one is handled",
        || async {
            let m = received(&url, &key).await;
            m.contains(&"second".to_string()).then_some(m)
        },
    )
    .await;
    assert_eq!(messages.first().map(String::as_str), Some("fail"));
}

#[tokio::test]
async fn the_trigger_ends_with_spins_error_when_redis_goes_away() {
    let mut redis = PrivateRedis::start();
    let url = redis.url();
    let channel = "strict-restart-test";
    let mut host = TestHost::start(
        &manifest(channel),
        &[
            ("redis_url", &url),
            ("redis_host", &host_port(&url)),
            ("list_key", "probe:strict-restart"),
        ],
    )
    .await;
    // Subscribed once the channel has a subscriber.
    eventually(
        std::time::Duration::from_secs(20),
        "the trigger subscribed",
        || {
            let url = url.clone();
            async move {
                let mut c = connection(&url).await;
                let (_, n): (String, i64) = redis::cmd("PUBSUB")
                    .arg("NUMSUB")
                    .arg(channel)
                    .query_async::<Vec<(String, i64)>>(&mut c)
                    .await
                    .ok()?
                    .pop()?;
                (n > 0).then_some(())
            }
        },
    )
    .await;
    redis.stop();
    let trigger = host.redis_trigger.take().expect("a Redis trigger");
    let ended = tokio::time::timeout(std::time::Duration::from_secs(20), trigger)
        .await
        .expect("the trigger ends when Redis goes away")
        .unwrap();
    let error = ended.expect_err("it ends with an error");
    assert!(
        error
            .to_string()
            .starts_with("disconnected from 127.0.0.1:"),
        "{error:#}"
    );
}

#[tokio::test]
async fn the_trigger_does_not_start_without_redis_as_in_spin() {
    // A reserved port nobody listens on.
    let port = ports::reserve();
    let url = format!("redis://127.0.0.1:{}", port.number());
    let mut host = TestHost::start(
        &manifest("no-redis"),
        &[
            ("redis_url", &url),
            ("redis_host", &host_port(&url)),
            ("list_key", "probe:none"),
        ],
    )
    .await;
    let trigger = host.redis_trigger.take().expect("a Redis trigger");
    let ended = tokio::time::timeout(std::time::Duration::from_secs(20), trigger)
        .await
        .expect("the trigger gives up at once")
        .unwrap();
    let error = format!("{:#}", ended.expect_err("it ends with an error"));
    assert!(error.contains("Redis trigger failed to connect"), "{error}");
}

#[tokio::test]
async fn resubscribes_after_redis_restarts_under_the_lenient_profile() {
    let mut redis = PrivateRedis::start();
    let url = redis.url();
    let channel = "restart-test";
    let key = "probe:restart";
    let _host = TestHost::start_with(
        &manifest(channel),
        &[
            ("redis_url", &url),
            ("redis_host", &host_port(&url)),
            ("list_key", key),
        ],
        Profile::Lenient,
    )
    .await;
    let publish_until_heard = |message: &'static str| {
        let url = url.clone();
        eventually(
            std::time::Duration::from_secs(20),
            "a subscriber hears the message",
            move || {
                let url = url.clone();
                async move {
                    let client = redis::Client::open(url.as_str()).ok()?;
                    let mut c = client.get_multiplexed_async_connection().await.ok()?;
                    let heard: i64 = c.publish(channel, message).await.ok()?;
                    (heard > 0).then_some(())
                }
            },
        )
    };
    publish_until_heard("before").await;
    // Handled before Redis goes away (its data goes with it).
    eventually(
        std::time::Duration::from_secs(10),
        "the message published before the restart is handled",
        || async { (received(&url, key).await == ["before"]).then_some(()) },
    )
    .await;
    redis.stop();
    redis.restart();
    publish_until_heard("after").await;
    let messages = eventually(
        std::time::Duration::from_secs(10),
        "the message published after the restart is handled",
        || async {
            let m = received(&url, key).await;
            (!m.is_empty()).then_some(m)
        },
    )
    .await;
    assert_eq!(messages, ["after"]);
    drop(redis);
}
