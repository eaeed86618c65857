set terminal pngcairo size 900,520 font 'sans,10' noenhanced
set output 'reports/db9975e/bandwidth_fp32.png'
set title 'Bandwidth shapes, fp32 (1 GiB moved, L2 flushed)'
set xlabel 'hidden'
set ylabel 'GB/s (read + written)'
set logscale x 2
set key bottom right
set yrange [0:*]
plot 'reports/db9975e/plots/bandwidth_fp32.dat' index 0 with linespoints lw 2 title 'kconform rmsnorm.fp32', 'reports/db9975e/plots/bandwidth_fp32.dat' index 1 with linespoints lw 2 title 'kconform rmsnorm.hf', 'reports/db9975e/plots/bandwidth_fp32.dat' index 2 with linespoints lw 2 title 'kconform rmsnorm.gemma', 'reports/db9975e/plots/bandwidth_fp32.dat' index 3 with linespoints lw 2 title 'kconform fused_add_rmsnorm.fp32_sum', 'reports/db9975e/plots/bandwidth_fp32.dat' index 4 with linespoints lw 2 title 'kconform fused_add_rmsnorm.hf', 'reports/db9975e/plots/bandwidth_fp32.dat' index 5 with linespoints lw 2 title 'kconform fused_add_rmsnorm.fp32_sum_hf_cast', 'reports/db9975e/plots/bandwidth_fp32.dat' index 6 with linespoints lw 2 title 'kconform fused_add_rmsnorm.gemma', 2989.53 with lines dt 2 lc 'black' title 'copy ceiling'
