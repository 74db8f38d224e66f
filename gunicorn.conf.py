"""gunicorn's settings for the Procfile's web process."""
# The access log on stdout, naming each request by its path only: query strings and referrers
# carry contacts (list searches, Tracking Log filters) and must not reach the log.
accesslog = "-"
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms "%(a)s"'
