# Installs the build tree to a scratch prefix and runs the installed program
# with no --model / --image: it must find the embedded model and the sample
# image in <prefix>/share/cuxplain, next to itself (cmake -P).
#   -DBUILD_DIR=dir -DWORK_DIR=dir -DDATA_SUBDIR=share/cuxplain -DBIN_SUBDIR=bin
foreach(var BUILD_DIR WORK_DIR DATA_SUBDIR BIN_SUBDIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "check_installed.cmake needs -D${var}=...")
  endif()
endforeach()
file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix}
                RESULT_VARIABLE status OUTPUT_QUIET)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "cmake --install failed")
endif()
foreach(file fashion_mnist_cnn.onnx fashion_mnist_cnn.json sample_fashion_mnist.png)
  if(NOT EXISTS ${prefix}/${DATA_SUBDIR}/${file})
    message(FATAL_ERROR "${file} is not installed in ${prefix}/${DATA_SUBDIR}")
  endif()
endforeach()
execute_process(COMMAND ${prefix}/${BIN_SUBDIR}/cuxplain explain --device cpu --method eva
                        --out ${WORK_DIR}/out
                RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("--- stdout\n${out}--- stderr\n${err}--- exit ${status}")
if(NOT status EQUAL 0)
  message(FATAL_ERROR "the installed cuxplain failed")
endif()
foreach(file fashion_mnist_cnn.onnx sample_fashion_mnist.png)
  string(FIND "${out}" "${prefix}/${DATA_SUBDIR}/${file}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "the installed cuxplain did not use ${prefix}/${DATA_SUBDIR}/${file}")
  endif()
endforeach()
if(NOT EXISTS ${WORK_DIR}/out/eva.png OR NOT EXISTS ${WORK_DIR}/out/scores.json)
  message(FATAL_ERROR "the installed cuxplain wrote no eva.png / scores.json")
endif()
