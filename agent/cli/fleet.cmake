# vigiectl fleet, the reference control-plane poller, as its own library: agent/cli/CMakeLists.txt
# includes this file and links vigie_fleet into vigiectl (addFleetCommand). Paths are relative to
# this file so that it can be included from any directory.
vigie_library(vigie_fleet
  ${CMAKE_CURRENT_LIST_DIR}/fleet_channels.cc
  ${CMAKE_CURRENT_LIST_DIR}/fleet_command.cc
  ${CMAKE_CURRENT_LIST_DIR}/fleet_node.cc
  ${CMAKE_CURRENT_LIST_DIR}/fleet_node_state.cc
  ${CMAKE_CURRENT_LIST_DIR}/fleet_poller.cc
  ${CMAKE_CURRENT_LIST_DIR}/fleet_table.cc
  ${CMAKE_CURRENT_LIST_DIR}/fleet_targets.cc
)
# vigie_config: durations ("2s") are parsed and printed the way the agent's config does;
# vigie_cli: gRPC failures are explained the way the other commands explain them.
target_link_libraries(vigie_fleet PUBLIC vigie_cli vigie_proto vigie_config CLI11::CLI11 fmt::fmt)
