"""factory_boy factories for the inventory."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from breakglass import models
from breakglass.choices import CredentialStorage, MfaDeviceKind


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"person{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.org")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.django.Password("correct horse battery staple")


class AwsAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.AwsAccount

    account_id = factory.Sequence(lambda n: f"{100000000000 + n:012d}")
    name = factory.Sequence(lambda n: f"workload-{n}")
    root_email = factory.LazyAttribute(lambda o: f"aws+{o.name}@example.org")
    approval_quorum = 1


class PhysicalCredentialFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.RootCredential

    account = factory.SubFactory(AwsAccountFactory)
    storage = CredentialStorage.PHYSICAL
    safe_location = "Safe A, shelf 2"
    envelope_number = factory.Sequence(lambda n: f"ENV-{n:05d}")


class MfaDeviceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.MfaDevice

    kind = MfaDeviceKind.FIDO
    label = factory.Sequence(lambda n: f"YubiKey {n}")
    serial_number = factory.Sequence(lambda n: f"SN-{n:08d}")
    storage_location = "Safe A"


class GrantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Grant

    user = factory.SubFactory(UserFactory)
    account = factory.SubFactory(AwsAccountFactory)
    granted_by = factory.SubFactory(UserFactory)
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=90))
