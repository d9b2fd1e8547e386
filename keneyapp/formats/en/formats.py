"""English: dates are read in ISO only (2026-12-02), so a day/month order is never guessed; short
dates are shown the same way. Long dates and times keep Django's English ("Jan. 7, 2030, 10 a.m.")."""

SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
FIRST_DAY_OF_WEEK = 1  # Monday

# The first of each list is the one the widgets show and the errors name.
DATE_INPUT_FORMATS = ["%Y-%m-%d"]
TIME_INPUT_FORMATS = ["%H:%M:%S", "%H:%M"]
DATETIME_INPUT_FORMATS = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"]
