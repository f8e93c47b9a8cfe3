# Inputs of the benchmark's Terraform configuration.  bench/terraform_peer.py writes them to
# terraform.tfvars.json next to a copy of these files; nothing else varies between runs.

variable "endpoint" {
  description = "MiniStack URL, used for every service the configuration touches."
  type        = string
}

variable "prefix" {
  description = "Prefix of every name: buckets, keys' alias, role, topic, alarms, dashboard."
  type        = string
  default     = "bench"
}

variable "account" {
  description = "Account id allowed to publish to the topics (MiniStack's default)."
  type        = string
}

variable "src_region" {
  type = string
}

variable "dst_region" {
  type = string
}

variable "replication_events" {
  description = "S3 replication events the source buckets notify the topic of."
  type        = list(string)
}

variable "pairs" {
  description = "CRR pairs by key (\"000\", \"001\", ...): bucket names, rule prefix and priority."
  type = map(object({
    src      = string
    dst      = string
    prefix   = string
    priority = number
  }))
}
