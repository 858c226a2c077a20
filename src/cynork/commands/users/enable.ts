/** `cynork users enable <handle|id>` (admin). */
import { activeSwitch } from "./user-line";

export default activeSwitch("enable");
