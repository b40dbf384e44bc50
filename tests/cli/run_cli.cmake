# Runs the cuxplain program once and checks how it ended (cmake -P).
#   -DPROGRAM=path        the program
#   -DARGS=a|b|c          its arguments, separated by |
#   -DEXPECT_EXIT=N       expected exit status (default 0)
#   -DEXPECT_STDERR=text  a substring stderr must contain (case-insensitive)
#   -DEXPECT_STDOUT=a|b   substrings stdout must contain
#   -DCLEAN_DIR=dir       removed before the run (stale outputs never pass)
if(NOT DEFINED EXPECT_EXIT)
  set(EXPECT_EXIT 0)
endif()
if(DEFINED CLEAN_DIR AND NOT CLEAN_DIR STREQUAL "")
  file(REMOVE_RECURSE "${CLEAN_DIR}")
endif()
string(REPLACE "|" ";" arguments "${ARGS}")
execute_process(COMMAND "${PROGRAM}" ${arguments}
                RESULT_VARIABLE status
                OUTPUT_VARIABLE out
                ERROR_VARIABLE err)
list(JOIN arguments " " shown)
message("$ cuxplain ${shown}\n--- stdout\n${out}--- stderr\n${err}--- exit ${status}")
# A crash is never an expected ending: a signal reads as its name
# ("Segmentation fault", "Child aborted"), a status >= 128 as a shell's
# report of one.
if(NOT status MATCHES "^[0-9]+$" OR status GREATER_EQUAL 128)
  message(FATAL_ERROR "the program crashed: ${status}")
endif()
if(NOT status STREQUAL "${EXPECT_EXIT}")
  message(FATAL_ERROR "exit status ${status}, expected ${EXPECT_EXIT}")
endif()
if(DEFINED EXPECT_STDERR)
  string(TOLOWER "${err}" err_lower)
  string(TOLOWER "${EXPECT_STDERR}" wanted)
  string(FIND "${err_lower}" "${wanted}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "stderr does not contain '${EXPECT_STDERR}'")
  endif()
endif()
if(DEFINED EXPECT_STDOUT)
  string(REPLACE "|" ";" wanted_list "${EXPECT_STDOUT}")
  foreach(wanted IN LISTS wanted_list)
    string(FIND "${out}" "${wanted}" at)
    if(at EQUAL -1)
      message(FATAL_ERROR "stdout does not contain '${wanted}'")
    endif()
  endforeach()
endif()
