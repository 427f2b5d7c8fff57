/** Where the hub keeps its embedded store and local files unless JUNCTION_DATA_DIR (or a flag) says otherwise. */
export const DEFAULT_DATA_DIR = './data';
