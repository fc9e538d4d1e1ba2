"""Notifications: who hears about a break-glass event, what they read, and how it reaches them.

The wing has one module per job:

- :mod:`~breakglass.notifications.messages`: the events and their wording (subjects, bodies,
  webhook payloads); plain functions of the request, no database writes.
- :mod:`~breakglass.notifications.audience`: who hears about an event (people and channels).
- :mod:`~breakglass.notifications.outbox`: writes the ``Notification`` rows inside the caller's
  transaction and hands them to Celery, by task name, once it commits; sweeps rows whose hand-over
  failed.
- :mod:`~breakglass.notifications.delivery`: sends one queued notification, with retries.
- :mod:`~breakglass.notifications.senders` and :mod:`~breakglass.notifications.targets`: email,
  Slack-compatible and signed JSON webhooks, and what a channel's target may be.
- :mod:`~breakglass.notifications.selectors`, :mod:`~breakglass.notifications.services` and
  :mod:`~breakglass.notifications.forms`: channel administration (reads, writes, the form).

Nothing in the wing imports ``breakglass.tasks`` or ``breakglass.lifecycle``: the lifecycle calls the
outbox, the tasks call delivery and the outbox, and the outbox reaches the tasks by name only.
Nothing secret goes into a notification: no root password, no signing secret, no webhook URL.
"""
