-- The watch of one workbench database, every minute, replacing an earlier schedule of the same name.
SELECT cron.unschedule(jobid) FROM cron.job WHERE jobname = %(job)s;
SELECT cron.schedule_in_database(%(job)s, '* * * * *', 'CALL alpr.watch(55)', %(database)s);
