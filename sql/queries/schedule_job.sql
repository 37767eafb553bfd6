-- One of the profile's scheduled jobs in one workbench database, replacing an earlier schedule of the same name.
SELECT cron.unschedule(jobid) FROM cron.job WHERE jobname = %(job)s;
SELECT cron.schedule_in_database(%(job)s, %(schedule)s, %(command)s, %(database)s);
