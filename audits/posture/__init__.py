"""Root posture of every account in the inventory (issue 10, items 2 and 3).

``aws.py`` reads what AWS says about each root user (through the member account's read-only role, or
an ``sts:AssumeRoot`` audit session for centralised accounts) and the account's alternate contacts
(from the management account); ``checks.py`` (pure) turns a reading into one result per check;
``service.py`` stores the results (``PostureResult``) and raises or resolves the posture findings
through ``findings.py`` (on ``audits.alerts``); ``controls.py`` maps checks to Security Hub and CIS
controls for the scores; ``contacts.py`` sets missing alternate contacts from the portal.
"""
