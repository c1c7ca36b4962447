"""The seed's design in Python, as the benchmark's baseline (see bench/README.md).

One invocation of the seed's data flow, with confluent-kafka (librdkafka) and boto3:
  Query the offsets table for the consumer_id -> assign every partition at offset + 1 (its
  first message when none is stored) -> consume up to MAX_MESSAGES, JSON-parsing each value
  and handing it to a no-op processor -> PutItem the last offset of every partition that moved.
It stops when every partition has reached its end (librdkafka's partition EOF) or at
MAX_MESSAGES. Written for the benchmark from the seed's diagrams, not taken from anywhere.

Configuration from the environment, as the TypeScript handler's: KAFKA_BOOTSTRAP_SERVERS,
KAFKA_TOPIC, KAFKA_GROUP_ID, MAX_MESSAGES, DYNAMODB_TABLE, DYNAMODB_ENDPOINT, AWS_REGION.
Prints one JSON line: messages, the drain's milliseconds (after the imports), the imports'
milliseconds, and the process's peak RSS (VmHWM, KiB).
"""

import time

IMPORTS_STARTED = time.perf_counter()

import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

import boto3  # noqa: E402
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, TopicPartition  # noqa: E402

IMPORTS_MS = (time.perf_counter() - IMPORTS_STARTED) * 1000


def process(message):
    """The processor: a no-op, as the benchmark's TypeScript processors."""


def stored_offsets(dynamodb, table, consumer_id):
    offsets = {}
    request = {
        "TableName": table,
        "KeyConditionExpression": "consumer_id = :id",
        "ExpressionAttributeValues": {":id": {"S": consumer_id}},
    }
    while True:
        page = dynamodb.query(**request)
        for item in page["Items"]:
            offsets[int(item["partition"]["N"])] = int(item["offset"]["N"])
        if "LastEvaluatedKey" not in page:
            return offsets
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def peak_rss_kb():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def main():
    env = os.environ
    topic = env["KAFKA_TOPIC"]
    group_id = env.get("KAFKA_GROUP_ID", "lambda-consumer-group")
    table = env.get("DYNAMODB_TABLE", "kafka-consumer-offsets")
    max_messages = int(env.get("MAX_MESSAGES", "1000"))
    consumer_id = f"{group_id}_{topic}"
    started = time.perf_counter()

    dynamodb = boto3.client(
        "dynamodb", endpoint_url=env.get("DYNAMODB_ENDPOINT"), region_name=env.get("AWS_REGION", "us-east-1")
    )
    offsets = stored_offsets(dynamodb, table, consumer_id)

    consumer = Consumer(
        {
            "bootstrap.servers": env["KAFKA_BOOTSTRAP_SERVERS"],
            # librdkafka wants a group id; assign() joins no group, and nothing is committed to Kafka.
            "group.id": group_id,
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "enable.partition.eof": True,
        }
    )
    partitions = sorted(consumer.list_topics(topic, timeout=10).topics[topic].partitions)
    consumer.assign(
        [TopicPartition(topic, p, offsets[p] + 1 if p in offsets else OFFSET_BEGINNING) for p in partitions]
    )

    last = {}
    count = 0
    open_partitions = set(partitions)
    while open_partitions and count < max_messages:
        for message in consumer.consume(num_messages=min(10_000, max_messages - count), timeout=1.0):
            error = message.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    open_partitions.discard(message.partition())
                    continue
                raise KafkaException(error)
            process(json.loads(message.value()))
            last[message.partition()] = message.offset()
            count += 1

    for partition, offset in last.items():
        dynamodb.put_item(
            TableName=table,
            Item={
                "consumer_id": {"S": consumer_id},
                "partition": {"N": str(partition)},
                "offset": {"N": str(offset)},
                "topic": {"S": topic},
                "group_id": {"S": group_id},
            },
        )
    consumer.close()
    drain_ms = (time.perf_counter() - started) * 1000
    result = {"messages": count, "drainMs": drain_ms, "importMs": IMPORTS_MS, "peakRssKb": peak_rss_kb()}
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
