"""What AWS resource types mean, as data: the service a type belongs to, the settings worth
showing in a review, how resources feed each other, where they log. General AWS and Terraform
provider knowledge only: nothing here names a particular repository's resources.

Lookups go by exact type first, then by the longest matching prefix.
"""

from __future__ import annotations

from typing import Literal

# type or type prefix -> AWS service, longest prefix wins
SERVICES: dict[str, str] = {
    "aws_vpc_endpoint": "VPC endpoints",
    "aws_vpc": "VPC",
    "aws_subnet": "VPC",
    "aws_route": "VPC",
    "aws_internet_gateway": "VPC",
    "aws_egress_only_internet_gateway": "VPC",
    "aws_nat_gateway": "VPC",
    "aws_eip": "VPC",
    "aws_network_acl": "VPC",
    "aws_default_": "VPC",
    "aws_flow_log": "VPC",
    "aws_security_group": "VPC",
    "aws_vpc_security_group_": "VPC",
    "aws_ec2_managed_prefix_list": "VPC",
    "aws_ec2_transit_gateway": "Transit Gateway",
    "aws_eks_": "EKS",
    "aws_iam_openid_connect_provider": "IAM",
    "aws_iam_": "IAM",
    "aws_kms_": "KMS",
    "aws_db_proxy": "RDS Proxy",
    "aws_db_": "RDS",
    "aws_rds_": "RDS (Aurora)",
    "aws_elasticache_": "ElastiCache",
    "aws_memorydb_": "MemoryDB",
    "aws_msk_": "MSK (Kafka)",
    "aws_mq_": "Amazon MQ",
    "aws_lb": "Elastic Load Balancing",
    "aws_alb": "Elastic Load Balancing",
    "aws_elb": "Elastic Load Balancing",
    "aws_cloudfront_": "CloudFront",
    "aws_s3_": "S3",
    "aws_sqs_": "SQS",
    "aws_sns_": "SNS",
    "aws_dynamodb_": "DynamoDB",
    "aws_api_gateway_": "API Gateway",
    "aws_apigatewayv2_": "API Gateway",
    "aws_lambda_": "Lambda",
    "aws_secretsmanager_": "Secrets Manager",
    "aws_ssm_parameter": "Systems Manager Parameter Store",
    "aws_cloudwatch_log_": "CloudWatch Logs",
    "aws_cloudwatch_metric_alarm": "CloudWatch alarms",
    "aws_cloudwatch_composite_alarm": "CloudWatch alarms",
    "aws_cloudwatch_dashboard": "CloudWatch",
    "aws_cloudwatch_event_": "EventBridge",
    "aws_scheduler_": "EventBridge Scheduler",
    "aws_route53_": "Route 53",
    "aws_acm_": "Certificate Manager",
    "aws_wafv2_": "WAF",
    "aws_waf_": "WAF",
    "aws_ecr_": "ECR",
    "aws_ecs_": "ECS",
    "aws_kinesis_": "Kinesis",
    "aws_sfn_": "Step Functions",
    "aws_efs_": "EFS",
    "aws_opensearch_": "OpenSearch",
    "aws_elasticsearch_": "OpenSearch",
    "aws_cognito_": "Cognito",
    "aws_instance": "EC2",
    "aws_launch_template": "EC2",
    "aws_autoscaling_": "EC2 Auto Scaling",
    "aws_backup_": "AWS Backup",
    "aws_xray_": "X-Ray",
}

# Settings a reviewer looks at first, per type: (label, attribute path); nested blocks dotted.
KEY_SETTINGS: dict[str, tuple[tuple[str, str], ...]] = {
    "aws_vpc": (("CIDR", "cidr_block"),),
    "aws_eks_cluster": (
        ("version", "version"),
        ("public endpoint", "vpc_config.endpoint_public_access"),
        ("encrypted resources", "encryption_config.resources"),
    ),
    "aws_eks_node_group": (
        ("instance types", "instance_types"),
        ("capacity", "capacity_type"),
        ("min", "scaling_config.min_size"),
        ("max", "scaling_config.max_size"),
    ),
    "aws_db_instance": (
        ("engine", "engine"),
        ("version", "engine_version"),
        ("class", "instance_class"),
        ("multi-AZ", "multi_az"),
        ("storage", "storage_type"),
        ("encrypted", "storage_encrypted"),
        ("deletion protection", "deletion_protection"),
        ("backups (days)", "backup_retention_period"),
    ),
    "aws_rds_cluster": (
        ("engine", "engine"),
        ("version", "engine_version"),
        ("encrypted", "storage_encrypted"),
        ("deletion protection", "deletion_protection"),
    ),
    "aws_db_proxy": (("engine family", "engine_family"), ("TLS required", "require_tls")),
    "aws_elasticache_replication_group": (
        ("engine", "engine"),
        ("version", "engine_version"),
        ("node type", "node_type"),
        ("nodes", "num_cache_clusters"),
        ("failover", "automatic_failover_enabled"),
        ("TLS", "transit_encryption_enabled"),
        ("encrypted at rest", "at_rest_encryption_enabled"),
    ),
    "aws_elasticache_cluster": (("engine", "engine"), ("node type", "node_type"), ("nodes", "num_cache_nodes")),
    "aws_msk_cluster": (
        ("Kafka", "kafka_version"),
        ("brokers", "number_of_broker_nodes"),
        ("broker type", "broker_node_group_info.instance_type"),
        ("client TLS", "encryption_info.encryption_in_transit.client_broker"),
        ("IAM auth", "client_authentication.sasl.iam"),
    ),
    "aws_lb": (("type", "load_balancer_type"), ("internal", "internal")),
    "aws_lb_listener": (("port", "port"), ("protocol", "protocol"), ("TLS policy", "ssl_policy")),
    "aws_cloudfront_distribution": (
        ("price class", "price_class"),
        ("minimum TLS", "viewer_certificate.minimum_protocol_version"),
        ("WAF", "web_acl_id"),
    ),
    "aws_lambda_function": (
        ("runtime", "runtime"),
        ("architectures", "architectures"),
        ("memory (MB)", "memory_size"),
        ("timeout (s)", "timeout"),
        ("reserved concurrency", "reserved_concurrent_executions"),
    ),
    "aws_sqs_queue": (
        ("FIFO", "fifo_queue"),
        ("visibility timeout (s)", "visibility_timeout_seconds"),
        ("retention (s)", "message_retention_seconds"),
        ("SSE", "sqs_managed_sse_enabled"),
        ("KMS key", "kms_master_key_id"),
    ),
    "aws_dynamodb_table": (
        ("billing", "billing_mode"),
        ("hash key", "hash_key"),
        ("PITR", "point_in_time_recovery.enabled"),
        ("SSE", "server_side_encryption.enabled"),
    ),
    "aws_api_gateway_rest_api": (("endpoint", "endpoint_configuration.types"),),
    "aws_api_gateway_method_settings": (
        ("burst limit", "settings.throttling_burst_limit"),
        ("rate limit", "settings.throttling_rate_limit"),
    ),
    "aws_s3_bucket_versioning": (("versioning", "versioning_configuration.status"),),
    "aws_s3_bucket_server_side_encryption_configuration": (
        ("SSE", "rule.apply_server_side_encryption_by_default.sse_algorithm"),
    ),
    "aws_kms_key": (("rotation", "enable_key_rotation"),),
    "aws_cloudwatch_event_rule": (("schedule", "schedule_expression"),),
    "aws_vpc_endpoint": (("type", "vpc_endpoint_type"),),
}

# Generators of secret values: what the secrets flow starts from.
SECRET_GENERATORS: tuple[str, ...] = (
    "random_password",
    "tls_private_key",
    "aws_iam_access_key",
)
# Where a secret value is stored: (type, attribute holding the value)
SECRET_STORES: dict[str, str] = {
    "aws_secretsmanager_secret_version": "secret_string",
    "aws_ssm_parameter": "value",
}

# Resources that carry traffic or data: the nodes of the architecture diagram.
FLOW_NODES: dict[str, str] = {
    "aws_cloudfront_distribution": "edge",
    "aws_lb": "load balancer",
    "aws_alb": "load balancer",
    "aws_elb": "load balancer",
    "aws_lb_target_group": "target group",
    "aws_api_gateway_rest_api": "API",
    "aws_apigatewayv2_api": "API",
    "aws_lambda_function": "function",
    "aws_cloudwatch_event_rule": "schedule",
    "aws_sqs_queue": "queue",
    "aws_sns_topic": "topic",
    "aws_kinesis_stream": "stream",
    "aws_msk_cluster": "stream",
    "aws_mq_broker": "queue",
    "aws_dynamodb_table": "data store",
    "aws_db_instance": "data store",
    "aws_rds_cluster": "data store",
    "aws_db_proxy": "data store",
    "aws_elasticache_replication_group": "data store",
    "aws_elasticache_cluster": "data store",
    "aws_memorydb_cluster": "data store",
    "aws_s3_bucket": "data store",
    "aws_efs_file_system": "data store",
    "aws_opensearch_domain": "data store",
    "aws_eks_cluster": "compute",
    "aws_ecs_service": "compute",
    "aws_sfn_state_machine": "function",
}

Direction = Literal["forward", "reverse"]
# (type, attribute path, direction, label): the attribute refers to another resource; traffic
# or data flows from the resource to what it refers to ("forward") or the other way ("reverse").
# Nested blocks are dotted; every block of that type is read.
FLOW_REFERENCES: tuple[tuple[str, str, Direction, str], ...] = (
    ("aws_cloudfront_distribution", "origin.domain_name", "forward", "origin"),
    (
        "aws_cloudfront_distribution",
        "default_cache_behavior.lambda_function_association.lambda_arn",
        "forward",
        "edge function",
    ),
    (
        "aws_cloudfront_distribution",
        "ordered_cache_behavior.lambda_function_association.lambda_arn",
        "forward",
        "edge function",
    ),
    ("aws_lb_listener", "load_balancer_arn", "reverse", "listener"),
    ("aws_lb_listener", "default_action.target_group_arn", "forward", "forwards"),
    ("aws_lb_listener_rule", "listener_arn", "reverse", "rule"),
    ("aws_lb_listener_rule", "action.target_group_arn", "forward", "forwards"),
    ("aws_lb_target_group_attachment", "target_group_arn", "reverse", "target"),
    ("aws_lb_target_group_attachment", "target_id", "forward", "target"),
    ("aws_api_gateway_integration", "rest_api_id", "reverse", "integration"),
    ("aws_api_gateway_integration", "uri", "forward", "invokes"),
    ("aws_apigatewayv2_integration", "api_id", "reverse", "integration"),
    ("aws_apigatewayv2_integration", "integration_uri", "forward", "invokes"),
    ("aws_lambda_function_url", "function_name", "forward", "invokes"),
    ("aws_lambda_event_source_mapping", "event_source_arn", "reverse", "triggers"),
    ("aws_lambda_event_source_mapping", "function_name", "forward", "triggers"),
    ("aws_cloudwatch_event_target", "rule", "reverse", "triggers"),
    ("aws_cloudwatch_event_target", "arn", "forward", "triggers"),
    ("aws_sns_topic_subscription", "topic_arn", "reverse", "delivers"),
    ("aws_sns_topic_subscription", "endpoint", "forward", "delivers"),
    ("aws_sqs_queue", "redrive_policy", "forward", "dead letters"),
    ("aws_db_proxy_target", "db_proxy_name", "reverse", "pools"),
    ("aws_db_proxy_target", "db_instance_identifier", "forward", "pools"),
    ("aws_db_proxy_target", "db_cluster_identifier", "forward", "pools"),
    ("aws_lambda_function", "environment.variables", "forward", "configured with"),
    ("aws_ecs_task_definition", "container_definitions", "forward", "configured with"),
    ("aws_ecs_service", "task_definition", "forward", "runs"),
)

# A node is internet-facing when this attribute has this value (absent counts as the default).
INTERNET_FACING: dict[str, tuple[str, object, bool]] = {
    # type: (attribute, value meaning internal, default is internet-facing)
    "aws_lb": ("internal", True, True),
    "aws_alb": ("internal", True, True),
    "aws_cloudfront_distribution": ("enabled", False, True),
    "aws_api_gateway_rest_api": ("endpoint_configuration.types", ["PRIVATE"], True),
    "aws_apigatewayv2_api": ("disable_execute_api_endpoint", True, True),
}

# The attribute naming a resource as it appears in the host names AWS gives its endpoints
# (`<proxy name>.proxy-<id>.<region>.rds.amazonaws.com`, `b-1.<cluster name>.<id>...`).
ENDPOINT_NAMES: dict[str, str] = {
    "aws_db_instance": "identifier",
    "aws_rds_cluster": "cluster_identifier",
    "aws_db_proxy": "name",
    "aws_elasticache_replication_group": "replication_group_id",
    "aws_elasticache_cluster": "cluster_id",
    "aws_memorydb_cluster": "name",
    "aws_msk_cluster": "cluster_name",
    "aws_mq_broker": "broker_name",
    "aws_opensearch_domain": "domain_name",
    "aws_lb": "name",
    "aws_sqs_queue": "name",
    "aws_s3_bucket": "bucket",
}

# Log and trace settings by type: (label, attribute path)
LOG_SETTINGS: dict[str, tuple[tuple[str, str], ...]] = {
    "aws_eks_cluster": (("control plane logs", "enabled_cluster_log_types"),),
    "aws_db_instance": (("log exports", "enabled_cloudwatch_logs_exports"),),
    "aws_rds_cluster": (("log exports", "enabled_cloudwatch_logs_exports"),),
    "aws_msk_cluster": (
        ("CloudWatch logs", "logging_info.broker_logs.cloudwatch_logs.enabled"),
        ("S3 logs", "logging_info.broker_logs.s3.enabled"),
    ),
    "aws_elasticache_replication_group": (("log delivery", "log_delivery_configuration.log_type"),),
    "aws_lb": (("access logs", "access_logs.enabled"), ("bucket", "access_logs.bucket")),
    "aws_cloudfront_distribution": (("access logs", "logging_config.bucket"),),
    "aws_api_gateway_stage": (("access logs", "access_log_settings.destination_arn"),),
    "aws_api_gateway_method_settings": (("execution logs", "settings.logging_level"),),
    "aws_flow_log": (("destination", "log_destination_type"),),
}
TRACING_SETTINGS: dict[str, tuple[tuple[str, str], ...]] = {
    "aws_lambda_function": (("X-Ray", "tracing_config.mode"),),
    "aws_api_gateway_stage": (("X-Ray", "xray_tracing_enabled"),),
    "aws_sfn_state_machine": (("X-Ray", "tracing_configuration.enabled"),),
    "aws_db_instance": (
        ("Performance Insights", "performance_insights_enabled"),
        ("retention (days)", "performance_insights_retention_period"),
        ("enhanced monitoring (s)", "monitoring_interval"),
    ),
    "aws_msk_cluster": (("Prometheus JMX exporter", "open_monitoring.prometheus.jmx_exporter.enabled_in_broker"),),
}
# Log groups AWS services write to by name, without a reference in the configuration:
# (writer type, attribute naming it, log group name pattern)
LOG_GROUP_CONVENTIONS: tuple[tuple[str, str, str], ...] = (
    ("aws_lambda_function", "function_name", "/aws/lambda/{}"),
    ("aws_eks_cluster", "name", "/aws/eks/{}/cluster"),
    ("aws_db_instance", "identifier", "/aws/rds/instance/{}/"),
)

# Well-known ports of data stores and brokers, to name what a configured endpoint is.
PORT_NAMES: dict[int, str] = {
    5432: "PostgreSQL",
    3306: "MySQL",
    1433: "SQL Server",
    1521: "Oracle",
    27017: "MongoDB",
    6379: "Redis",
    11211: "Memcached",
    9092: "Kafka",
    9093: "Kafka TLS",
    9094: "Kafka TLS",
    9096: "Kafka SASL",
    9098: "Kafka IAM",
    5672: "AMQP",
    5671: "AMQP TLS",
    4222: "NATS",
    9200: "Elasticsearch",
    9042: "Cassandra",
    2181: "ZooKeeper",
    8500: "Consul",
    443: "HTTPS",
    80: "HTTP",
    9411: "Zipkin",
    4317: "OTLP gRPC",
    4318: "OTLP HTTP",
    14268: "Jaeger",
}
# URL schemes naming the same (jdbc:postgresql://, redis://, rediss://, amqp://...)
SCHEME_NAMES: dict[str, str] = {
    "jdbc:postgresql": "PostgreSQL",
    "postgresql": "PostgreSQL",
    "postgres": "PostgreSQL",
    "jdbc:mysql": "MySQL",
    "mysql": "MySQL",
    "mongodb": "MongoDB",
    "mongodb+srv": "MongoDB",
    "redis": "Redis",
    "rediss": "Redis",
    "amqp": "AMQP",
    "amqps": "AMQP",
    "kafka": "Kafka",
    "nats": "NATS",
}
# Variable names that point at a tracing collector.
TRACING_VARIABLES = r"(?i)(ZIPKIN|OTEL_EXPORTER|JAEGER|TRACING)"


def lookup(table: dict[str, object], type_: str) -> object | None:
    """The entry for `type_`: exact, else the longest key it starts with."""
    if type_ in table:
        return table[type_]
    best = max((k for k in table if type_.startswith(k)), key=len, default=None)
    return table[best] if best is not None else None


def service_of(type_: str) -> str:
    """The AWS service a resource type belongs to; for other providers, `provider: kind`."""
    found = lookup(SERVICES, type_)  # type: ignore[arg-type]
    if isinstance(found, str):
        return found
    provider, _, rest = type_.partition("_")
    return f"{provider}: {rest.split('_', 1)[0]}" if rest else type_
