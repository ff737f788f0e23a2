#!/usr/bin/env python3
"""The example app's Python twin: examples/app.ts in Python, stack for stack and prop for prop.

Same stacks, construct IDs and props as examples/app.ts, so both synthesize the same templates;
scripts/python-consumer.sh checks that they do, with the wheel installed beside aws-cdk-lib from
PyPI. Synth needs no AWS account, network or Docker:

    cdk synth --app "python3 examples/python/app.py"
"""
from typing import List

from aws_cdk import (
    Acknowledgment,
    App,
    Duration,
    Stack,
    Tags,
    Validations,
    aws_cloudfront as cloudfront,
    aws_cloudfront_origins as origins,
    aws_dms as dms,
    aws_ec2 as ec2,
    aws_elasticloadbalancingv2 as elbv2,
    aws_kms as kms,
    aws_lightsail as lightsail,
    aws_route53 as route53,
    aws_s3 as s3,
    aws_scheduler as scheduler,
    aws_secretsmanager as secretsmanager,
    aws_sns as sns,
    aws_ssm as ssm,
)
from cdk_certificates import (
    AcmImportedCertificate,
    AlibabaCertificateSubject,
    AlibabaKeySpec,
    AlibabaKmsCertificate,
    AuditReportOptions,
    CertificatePem,
    CertificateWallet,
    CrlOptions,
    DmsCertificate,
    IssuedKeyAlgorithm,
    KeyAlgorithm,
    LightsailCertificate,
    PrivateCa,
    PrivateCaSubject,
    PrivateKey,
    ScheduledCertificateCheck,
    ServerCertificate,
    SharePrincipal,
)
from constructs import Construct


class ServerCertificateStack(Stack):
    """IAM server certificates from material kept in Secrets Manager, on a load balancer and a CloudFront distribution."""

    def __init__(self, scope: Construct, id: str, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        bundle = secretsmanager.Secret.from_secret_name_v2(self, "WebBundle", "tls/www.example.com")
        web = ServerCertificate(self, "Web",
            certificate_body=CertificatePem.from_secret(bundle, "certificate"),
            certificate_chain=CertificatePem.from_secret(bundle, "chain"),
            private_key=PrivateKey.from_secret(bundle, "privateKey"),
        )
        cdn = ServerCertificate(self, "Cdn",
            certificate_body=CertificatePem.from_secret(bundle, "certificate"),
            certificate_chain=CertificatePem.from_secret(bundle, "chain"),
            private_key=PrivateKey.from_secret(bundle, "privateKey"),
            for_cloud_front=True,
        )
        # cloudfront.Distribution takes only ACM certificates: apply_to_distribution sets its viewer
        # certificate to the IAM certificate's ID (TLS 1.2 2021 policy, SNI).
        distribution = cloudfront.Distribution(self, "Distribution",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.HttpOrigin("origin.example.com"),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
            ),
            domain_names=["www.example.com"],
        )
        ServerCertificate.apply_to_distribution(distribution, cdn)
        for rule, reason in [
            ("AwsSolutions-CFR1", "The example distribution serves every country; geo restrictions depend on the site."),
            ("AwsSolutions-CFR2", "The example distribution only shows how it takes the certificate; a web ACL depends on the site."),
            ("AwsSolutions-CFR3", "The example distribution only shows how it takes the certificate; it serves no traffic to log."),
        ]:
            Validations.of(distribution).acknowledge(Acknowledgment(id=rule, reason=reason))
        # SNS notices 30 and 7 days before the certificate expires (EventBridge Scheduler, no Lambda).
        notices = sns.Topic(self, "CertificateNotices",
            master_key=kms.Key(self, "CertificateNoticesKey", enable_key_rotation=True),
            enforce_ssl=True,
        )
        web.notify_before_expiry(topic=notices, days_before=[30, 7])
        # For accounts without a pipeline: the live check of what is deployed, daily, to its own topic.
        ScheduledCertificateCheck(self, "DailyCheck")

        vpc = ec2.Vpc(self, "Vpc",
            max_azs=2,
            nat_gateways=0,
            flow_logs={"all": ec2.FlowLogOptions()},
        )
        alb = elbv2.ApplicationLoadBalancer(self, "Alb", vpc=vpc, internet_facing=False)
        alb.add_listener("Https",
            port=443,
            open=False,
            certificates=[elbv2.ListenerCertificate.from_arn(web.server_certificate_arn)],
            ssl_policy=elbv2.SslPolicy.RECOMMENDED_TLS,
            default_action=elbv2.ListenerAction.fixed_response(200, message_body="ok"),
        )
        Validations.of(alb).acknowledge(Acknowledgment(
            id="AwsSolutions-ELB2",
            reason="The example load balancer only shows how a listener takes the certificate; it serves no traffic to log.",
        ))


class DmsCertificateStack(Stack):
    """DMS certificates: a CA from SSM with a KMS key and tags, trusted by an SSL endpoint; an Oracle wallet from S3."""

    def __init__(self, scope: Construct, id: str, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        ca = ssm.StringParameter.from_string_parameter_name(self, "DbCa", "/certificates/db-ca")
        trust = DmsCertificate(self, "DbTrust",
            certificate_pem=CertificatePem.from_ssm_parameter(ca),
            kms_key=kms.Key(self, "CertificateKey", enable_key_rotation=True),
        )
        Tags.of(trust).add("purpose", "dms-ssl")
        dms.CfnEndpoint(self, "Source",
            endpoint_type="source",
            engine_name="postgres",
            server_name="db.internal.example.com",
            port=5432,
            database_name="app",
            ssl_mode="verify-full",
            certificate_arn=trust.certificate_arn,
        )
        wallets = s3.Bucket.from_bucket_name(self, "Wallets", "example-oracle-wallets")
        DmsCertificate(self, "OracleWallet",
            certificate_wallet=CertificateWallet.from_bucket(wallets, "prod/cwallet.sso"),
            certificate_identifier="oracle-prod-wallet",
        )


class LightsailCertificateStack(Stack):
    """Lightsail certificates validated through Route 53: one for a distribution, one for a container service."""

    def __init__(self, scope: Construct, id: str, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        zone = route53.HostedZone.from_hosted_zone_attributes(self, "Zone",
            hosted_zone_id="Z0123456789ABCDEFGHIJ",
            zone_name="example.com",
        )
        cdn = LightsailCertificate(self, "Cdn",
            domain_name="example.com",
            subject_alternative_names=["www.example.com"],
            hosted_zone=zone,
            for_distribution=True,
        )
        cdn.attach_to_distribution("example-distribution")
        api = LightsailCertificate(self, "Api", domain_name="api.example.com", hosted_zone=zone)
        lightsail.CfnContainer(self, "Service",
            service_name="api",
            power="nano",
            scale=1,
            public_domain_names=[api.public_domain_name()],
        )


class PrivateCaStack(Stack):
    """ACM Private CA: a root with a CRL and audit reports, an issuing CA shared with another account, an
    issued certificate uploaded to IAM and imported into ACM, the issuing CA's trust bundle as an ALB
    mutual-TLS trust store."""

    def __init__(self, scope: Construct, id: str, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        root = PrivateCa(self, "Root",
            subject=PrivateCaSubject(common_name="Example Root CA", organization="Example Corp", country="US"),
            crl=CrlOptions(),
            audit_reports=AuditReportOptions(schedule=scheduler.ScheduleExpression.rate(Duration.days(30))),
        )
        # A year and 90 days before the root CA expires, an SNS notice (timed at deploy from its certificate).
        root.notify_before_expiry(
            topic=sns.Topic(self, "CaNotices",
                master_key=kms.Key(self, "CaNoticesKey", enable_key_rotation=True),
                enforce_ssl=True,
            ),
            days_before=[365, 90],
        )
        issuing = PrivateCa(self, "Issuing",
            parent=root,
            subject=PrivateCaSubject(common_name="Example Issuing CA"),
            key_algorithm=KeyAlgorithm.EC_PRIME256_V1,
        )
        web = issuing.issue_certificate("Web",
            common_name="www.example.com",
            dns_names=["www.example.com"],
            key_algorithm=IssuedKeyAlgorithm.EC_P256,
            validity=Duration.days(90),
        )
        ServerCertificate(self, "Iam",
            certificate_body=web.certificate_pem,
            certificate_chain=web.certificate_chain_pem,
            private_key=web.private_key,
        )
        # The same issued certificate in ACM, for anything that takes an acm.ICertificate; a re-issue
        # re-imports it under the same ARN.
        AcmImportedCertificate(self, "Acm",
            certificate=web.certificate_pem,
            certificate_chain=web.certificate_chain_pem,
            private_key=web.private_key,
        )
        # The issuing CA's chain as an S3 object, as an ALB mutual-TLS trust store for its client certificates.
        issuing.trust_bundle.to_alb_trust_store(self, "ClientTrustStore")
        # Another account issues end-entity certificates from the issuing CA, through AWS RAM.
        issuing.share_with([SharePrincipal.account("111122223333")])
        # A DMS endpoint that trusts servers whose certificates the root's hierarchy issued.
        DmsCertificate(self, "DbTrust", certificate_pem=root.certificate_pem)


class AlibabaKmsCertificateStack(Stack):
    """Alibaba Cloud KMS certificates: a key made in KMS and signed by an ACM Private CA; an upload to a KMS certificate made elsewhere."""

    def __init__(self, scope: Construct, id: str, **kwargs) -> None:
        super().__init__(scope, id, **kwargs)
        credentials = secretsmanager.Secret.from_secret_name_v2(self, "AlibabaCredentials", "alibaba/kms-certificates")
        ca = PrivateCa(self, "MultiCloudCa",
            subject=PrivateCaSubject(common_name="Example Multi-Cloud CA", organization="Example Corp", country="US"),
        )
        web = AlibabaKmsCertificate(self, "Web",
            region_id="cn-hangzhou",
            credentials=credentials,
            issuer=ca,
            subject=AlibabaCertificateSubject(
                common_name="www.example.cn", country="CN", organization="Example Corp", organizational_unit="Web",
            ),
            subject_alternative_names=["www.example.cn", "api.example.cn"],
            key_spec=AlibabaKeySpec.EC_P256,
            validity=Duration.days(90),
        )
        Tags.of(web).add("team", "platform")
        signing = secretsmanager.Secret.from_secret_name_v2(self, "SigningPem", "alibaba/signing-certificate")
        AlibabaKmsCertificate(self, "Signing",
            region_id="cn-shanghai",
            credentials=credentials,
            certificate_id="12345678-1234-4234-8234-123456789012",
            certificate=CertificatePem.from_secret(signing, "certificate"),
            certificate_chain=CertificatePem.from_secret(signing, "chain"),
        )


def build_example_app(app: App) -> List[Stack]:
    """Builds the example app's stacks into ``app``."""
    return [
        ServerCertificateStack(app, "CertificatesExample-ServerCertificate"),
        DmsCertificateStack(app, "CertificatesExample-DmsCertificate"),
        LightsailCertificateStack(app, "CertificatesExample-LightsailCertificate"),
        PrivateCaStack(app, "CertificatesExample-PrivateCa"),
        AlibabaKmsCertificateStack(app, "CertificatesExample-AlibabaKmsCertificate"),
    ]


if __name__ == "__main__":
    app = App()
    build_example_app(app)
    app.synth()
