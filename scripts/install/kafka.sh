#!/usr/bin/env bash
# Installs Apache Kafka's broker and tools jars (plus a log4j2 backend) from Maven Central into
# .cache/kafka-<version>/libs, for the test harness: it runs `java -cp 'libs/*' kafka.Kafka ...` with the
# machine's Java 17, from server.properties rendered by components/kafka. Idempotent: a finished install
# leaves a stamp file and the script exits at once when it is there.
set -euo pipefail

KAFKA_VERSION="${KAFKA_VERSION:-4.1.1}"
LOG4J_VERSION="2.24.3"
# Kafka itself is built against slf4j 2; connect-runtime (via kafka-tools) would pull in 1.7 otherwise.
SLF4J_VERSION="2.0.16"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dest="$root/.cache/kafka-$KAFKA_VERSION"
stamp="$dest/.installed"
if [ -f "$stamp" ]; then exit 0; fi

# One installer at a time (the test script and the e2e image build may both ask); re-check once holding the lock.
mkdir -p "$root/.cache"
exec 9>"$root/.cache/kafka-install.lock"
flock 9
if [ -f "$stamp" ]; then exit 0; fi

for tool in java mvn; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "[setup] kafka: \`$tool\` is missing (Java 17+ and Maven are required)" >&2
    exit 1
  fi
done

echo "[setup] fetching Kafka $KAFKA_VERSION jars from Maven Central" >&2
work="$(mktemp -d)"
trap 'rm -rf "$work" "$dest.partial"' EXIT
cat > "$work/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>io.botplatform</groupId>
  <artifactId>kafka-harness-libs</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <!-- kafka.Kafka (broker + controller), kafka.tools.StorageTool -->
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version></dependency>
    <!-- TopicCommand and the other admin tools kafka-topics.sh & co. run -->
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>$KAFKA_VERSION</version></dependency>
    <!-- The broker logs through slf4j; log4j2 writes it to the file the harness names. -->
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId><version>$SLF4J_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j2-impl</artifactId><version>$LOG4J_VERSION</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>$LOG4J_VERSION</version></dependency>
  </dependencies>
</project>
POM

rm -rf "$dest.partial"
mkdir -p "$dest.partial/libs"
mvn -q -B -f "$work/pom.xml" \
  -Dmaven.repo.local="$root/.cache/m2" \
  dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$dest.partial/libs"
echo "$KAFKA_VERSION" > "$dest.partial/.installed"
rm -rf "$dest"
mv "$dest.partial" "$dest"
echo "[setup] Kafka $KAFKA_VERSION jars in $dest/libs" >&2
